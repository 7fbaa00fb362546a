// Which Secrets may serve as credentials, and where to. Whoever may write a ConnectedSystem or an
// IdentitySource chooses the host the credentials are sent to, so naming a Secret is not enough: the
// Secret must opt in (a confused deputy otherwise sends any Secret of the namespace to any host), may
// narrow itself to some objects by name, and may pin the hosts its credentials go to: otherwise
// whoever may edit an object it names re-points that object at a listener of their own. A plaintext
// transport needs the Secret's consent too, so `insecure: true` on the object alone sends nothing.
import { RetryableError } from '../api/index.ts';
import type { SecretMetadata } from '../store/store.ts';
import { canonicalHost, hostAllowed, parseAllowedHosts, urlDestination, type HostPort } from './allowed-hosts.ts';

/** A Secret serves as credentials only with this label set to "true". */
export const CREDENTIALS_LABEL = 'rollcall.dev/credentials';
/** Optional: a comma-separated list of the names of the objects that may use the Secret. */
export const ALLOWED_SYSTEMS_ANNOTATION = 'rollcall.dev/allowed-systems';
/** Optional: the hosts (host, host:port or *.domain[:port], comma-separated) the credentials may go to. */
export const ALLOWED_HOSTS_ANNOTATION = 'rollcall.dev/allowed-hosts';
/** Required, set to "true", before the credentials cross a plaintext transport. */
export const ALLOW_INSECURE_ANNOTATION = 'rollcall.dev/allow-insecure';

/**
 * Where the object sends the credentials: the field that names the destination and its value (a URL,
 * or a host and port), and how the transport is plaintext when it is. Absent for credentials that
 * leave no process (an embedded store) or that only check what others present (inbound SCIM).
 */
export interface CredentialsUse {
  field: string;
  destination: { url: string } | { host: string; port: number };
  /** In words naming the field ("spec.ldap.url is ldap:// without startTLS"); absent over TLS. */
  plaintext?: string;
}

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
 * IdentitySource of the Secret's namespace) sending them as `use` says, or undefined when it may.
 * `field` names the reference. Checked before any connection is made.
 */
export function credentialsRefusal(secret: string, field: string, metadata: SecretMetadata, user: string, use?: CredentialsUse): string | undefined {
  if (metadata.labels[CREDENTIALS_LABEL] !== 'true') {
    return `Secret ${secret} (${field}) is not labelled ${CREDENTIALS_LABEL}: "true", so it may not serve as credentials`;
  }
  const allowed = metadata.annotations[ALLOWED_SYSTEMS_ANNOTATION];
  if (allowed !== undefined) {
    const names = allowed
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    if (!names.includes(user)) return `Secret ${secret} (${field}) is annotated ${ALLOWED_SYSTEMS_ANNOTATION}: "${allowed}", which does not name ${user}`;
  }
  if (!use) return undefined;
  const destination = destinationRefusal(secret, metadata, use.field, use.destination);
  if (destination) return destination;
  if (use.plaintext && metadata.annotations[ALLOW_INSECURE_ANNOTATION] !== 'true') {
    return `${use.plaintext}, and Secret ${secret} (${field}) is not annotated ${ALLOW_INSECURE_ANNOTATION}: "true", so its credentials may not cross a plaintext connection`;
  }
  return undefined;
}

/**
 * Why the Secret's credentials may not go to `destination` (named by `field` of the object using
 * them), or undefined when they may: the Secret has no rollcall.dev/allowed-hosts, or it lists the
 * destination. Call it for every hop that would carry the credentials (a redirect included).
 */
export function destinationRefusal(
  secret: string,
  metadata: SecretMetadata,
  field: string,
  destination: { url: string } | { host: string; port: number },
): string | undefined {
  const value = metadata.annotations[ALLOWED_HOSTS_ANNOTATION];
  if (value === undefined) return undefined;
  const allowed = parseAllowedHosts(value);
  const where = 'url' in destination ? destination.url : `${destination.host}:${destination.port}`;
  const hostPort: HostPort | undefined = 'url' in destination ? urlDestination(destination.url) : hostPortOf(destination);
  if (hostPort && hostAllowed(allowed, hostPort)) return undefined;
  const invalid = allowed.invalid.length
    ? ` (entries that are not a host, host:port or *.domain[:port] match nothing: ${allowed.invalid.map((e) => `"${e}"`).join(', ')})`
    : '';
  if (!hostPort)
    return `Secret ${secret} is annotated ${ALLOWED_HOSTS_ANNOTATION}: "${value}", and ${field} (${where}) names no host and port that list could admit${invalid}`;
  return `Secret ${secret} is annotated ${ALLOWED_HOSTS_ANNOTATION}: "${value}", which does not include ${hostPort.host}:${hostPort.port}, where ${field} (${where}) would send its credentials${invalid}`;
}

function hostPortOf({ host, port }: { host: string; port: number }): HostPort | undefined {
  const canonical = canonicalHost(host);
  return canonical === undefined ? undefined : { host: canonical, port };
}
