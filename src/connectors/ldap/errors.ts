// Maps what ldapts and the network throw onto Rollcall's two error kinds, with messages a person
// can act on. Never includes a credential: only the system, the operation and the server's reason.
import { InvalidCredentialsError, ResultCodeError } from 'ldapts';
import { PermanentError, RetryableError } from '../../api/index.ts';
import { socketFailureScope } from '../unreachable.ts';

/** Result codes that say "try again later": busy (51), unavailable (52), time or admin limit (3, 11), loop (54), other (80). */
const RETRYABLE_CODES = new Set([3, 11, 51, 52, 54, 80]);

/** Result codes about the session or server, which every account would meet: busy (51), unavailable (52), auth method (7, 8, 13, 48, 49). */
const SYSTEM_CODES = new Set([7, 8, 13, 48, 49, 51, 52]);

/** Node TLS codes that mean a wrong CA or server certificate: configuration, not a passing fault. */
const TLS_CONFIG_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS/;

/** Node's code for a server certificate that was not verified (wrong CA, wrong host name), or undefined for any other failure. */
export function tlsVerificationFailure(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && TLS_CONFIG_CODES.test(code) ? code : undefined;
}

export function toConnectorError(error: unknown, system: string, what: string): Error {
  if (error instanceof PermanentError || error instanceof RetryableError) return error;
  if (error instanceof InvalidCredentialsError) {
    return new PermanentError(`LDAP bind failed for ${system}: invalid credentials`, { scope: 'system' });
  }
  if (error instanceof ResultCodeError) {
    const reason = `${error.constructor.name.replace(/Error$/, '')} (${error.code}): ${error.message}`;
    // Any other code refuses this request: invalidAttributeSyntax, constraintViolation, objectClassViolation, namingViolation, sizeLimit, ...
    const scope = SYSTEM_CODES.has(error.code) ? 'system' : 'account';
    if (RETRYABLE_CODES.has(error.code))
      return new RetryableError(`LDAP ${what} on ${system} failed, will retry: ${reason}`, { scope: scope === 'system' ? scope : undefined });
    return new PermanentError(`LDAP ${what} on ${system} refused: ${reason}`, { scope });
  }
  const tls = tlsVerificationFailure(error);
  if (tls) return new PermanentError(`LDAP ${what} on ${system}: TLS verification failed (${tls}); check url, startTLS and caSecretRef`, { scope: 'system' });
  const code = (error as { code?: unknown })?.code;
  // Refused or reset connections, DNS failures, timeouts, closed sockets: the server may come back.
  // Only an unreachable address is surely the system's; a dropped connection may be one request's doing.
  const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
  const scope = socketFailureScope(code);
  return new RetryableError(`LDAP ${what} on ${system} failed, will retry: ${detail}`, { cause: error, scope });
}

/**
 * A refusal that names an LDAP attribute (slapd: "mail: value #0 invalid per syntax") says which of
 * Rollcall's attributes it is about, through the system's attribute map, so the User's field is named.
 */
export function withRefusedAttributes(error: unknown, attributeMap: ReadonlyMap<string, string>): unknown {
  if (!(error instanceof PermanentError)) return error;
  const named = /refused: \w+ \(\d+\): ([\w;-]+): /.exec(error.message)?.[1]?.split(';')[0]?.toLowerCase();
  const attributes = [...attributeMap].filter(([, ldap]) => ldap.toLowerCase() === named).map(([canonical]) => canonical);
  return attributes.length ? new PermanentError(error.message, { cause: error.cause, scope: error.scope, attributes }) : error;
}
