// Which ConfigMaps may serve as a feed. Whoever may write an IdentitySource names the ConfigMap, and
// its content becomes Users and their attributes (which anyone who may read Users sees), so naming
// one is not enough: the ConfigMap must opt in, as credentials Secrets do (credentials.ts).
import { RetryableError } from '../api/index.ts';

/** A ConfigMap serves as a feed only with this label set to "true". */
export const SOURCE_DATA_LABEL = 'rollcall.dev/source-data';

/** A ConfigMap exists but does not opt in; clears once it is labelled. */
export class SourceDataRefusedError extends RetryableError {
  override name = 'SourceDataRefusedError';
  constructor(message: string) {
    super(message);
  }
}

/** Why the ConfigMap may not serve as a feed, or undefined when it may. `field` names the reference. */
export function sourceDataRefusal(configMap: string, field: string, labels: Record<string, string>): string | undefined {
  if (labels[SOURCE_DATA_LABEL] === 'true') return undefined;
  return `ConfigMap ${configMap} (${field}) is not labelled ${SOURCE_DATA_LABEL}: "true", so it may not serve as a feed`;
}
