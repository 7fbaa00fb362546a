// Which Secrets may serve as credentials. Whoever may write a ConnectedSystem or an IdentitySource
// chooses the host the credentials are sent to, so naming a Secret is not enough: the Secret must
// opt in (a confused deputy otherwise sends any Secret of the namespace to any host).
import { RetryableError } from '../api/index.ts';
import type { SecretMetadata } from '../store/store.ts';

/** A Secret serves as credentials only with this label set to "true". */
export const CREDENTIALS_LABEL = 'rollcall.dev/credentials';
/** Optional: a comma-separated list of the names of the objects that may use the Secret. */
export const ALLOWED_SYSTEMS_ANNOTATION = 'rollcall.dev/allowed-systems';

/** A Secret exists but does not opt in for this user; clears once its label or annotation is fixed. */
export class CredentialsRefusedError extends RetryableError {
  override name = 'CredentialsRefusedError';
  constructor(message: string) {
    super(message, { scope: 'system' }); // every account of the system waits for the same Secret
  }
}

/** A Secret named as credentials (or its CA) is not there, or lacks the key needed; clears once it is created. */
export class CredentialsMissingError extends RetryableError {
  override name = 'CredentialsMissingError';
  constructor(message: string) {
    super(message, { scope: 'system' });
  }
}

/** The condition reason for a credentials problem, or undefined for any other failure. */
export function credentialsReason(error: unknown): 'CredentialsRefused' | 'CredentialsMissing' | undefined {
  if (error instanceof CredentialsRefusedError) return 'CredentialsRefused';
  if (error instanceof CredentialsMissingError) return 'CredentialsMissing';
  return undefined;
}

/**
 * Why the Secret may not serve as credentials for the object named `user` (a ConnectedSystem or an
 * IdentitySource of the Secret's namespace), or undefined when it may. `field` names the reference.
 */
export function credentialsRefusal(secret: string, field: string, metadata: SecretMetadata, user: string): string | undefined {
  if (metadata.labels[CREDENTIALS_LABEL] !== 'true') {
    return `Secret ${secret} (${field}) is not labelled ${CREDENTIALS_LABEL}: "true", so it may not serve as credentials`;
  }
  const allowed = metadata.annotations[ALLOWED_SYSTEMS_ANNOTATION];
  if (allowed === undefined) return undefined;
  const names = allowed.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.includes(user)) return undefined;
  return `Secret ${secret} (${field}) is annotated ${ALLOWED_SYSTEMS_ANNOTATION}: "${allowed}", which does not name ${user}`;
}
