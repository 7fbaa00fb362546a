// A Secret as a store holds it (data decoded), that a ConnectedSystem or IdentitySource may name in
// credentialsSecretRef: Rollcall reads only Secrets labelled rollcall.dev/credentials. For the same
// Secret in a manifest, see credentialsSecretYaml in manifest-yaml.ts.
import type { SecretObject } from '../../src/manifests/load.ts';

export interface CredentialsSecretOptions {
  /** Default acme. */
  namespace?: string;
  /** Annotated rollcall.dev/allow-insecure, so a system may reach a test server over a plain connection (default true). */
  allowInsecure?: boolean;
}

export function credentialsSecret(
  name: string,
  data: Record<string, string>,
  { namespace = 'acme', allowInsecure = true }: CredentialsSecretOptions = {},
): SecretObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      labels: { 'rollcall.dev/credentials': 'true' },
      ...(allowInsecure ? { annotations: { 'rollcall.dev/allow-insecure': 'true' } } : {}),
    },
    data,
  };
}
