// What a failed Keycloak call means for the work queue, in words a person can act on. Only
// Keycloak's own short error code or message goes into a message (never a request body, never a
// token or a secret: the admin client's errors carry neither, and nothing else is repeated).
// A refused token request is the credentials' or the settings' (a wrong realm): the system's.
import { PermanentError, RetryableError } from '../../api/index.ts';
import { privateNetworkRefusal } from '../egress/guard.ts';
import { socketFailureScope } from '../unreachable.ts';

/** An HTTP answer the admin client turned into an error (its NetworkError), or undefined. */
export function httpStatus(error: unknown): number | undefined {
  const status = (error as { response?: { status?: unknown } } | undefined)?.response?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The error the work queue gets for `error` raised while doing `what` on `system`. 401 after a fresh
 * token and 403 are the credentials' (the system's); 429 and 5xx a busy server; any other 4xx
 * refuses this one request; no answer at all is retried.
 */
export function keycloakFailure(system: string, what: string, error: unknown, options: { timeoutMs: number; aborted: boolean }): Error {
  if (error instanceof PermanentError || error instanceof RetryableError) return error;
  const refused = privateNetworkRefusal(error);
  if (refused) return refused;
  const status = httpStatus(error);
  if (status === undefined) {
    const reason = options.aborted ? 'aborted' : isTimeout(error) ? `no answer within ${options.timeoutMs} ms` : networkReason(error);
    return new RetryableError(`Keycloak ${what} on ${system} failed: ${reason}`, { cause: error, scope: socketFailureScope(networkCode(error)) });
  }
  const detail = describe(error);
  if (status === 401 || status === 403) {
    const hint =
      status === 401
        ? 'check the credentials Secret'
        : 'the admin client lacks a permission (it needs manage-users, view-realm, view-clients and query-groups in the realm)';
    return new PermanentError(`Keycloak ${what} on ${system} was refused: HTTP ${status}${detail}; ${hint}`, { scope: 'system' });
  }
  if (status === 429 || status >= 500) {
    return new RetryableError(`Keycloak ${what} on ${system} failed: HTTP ${status}${detail}`, {
      scope: status === 429 || status === 503 ? 'system' : undefined,
    });
  }
  return new PermanentError(`Keycloak ${what} on ${system} was refused: HTTP ${status}${detail}`, { scope: 'account' });
}

/** A failed token request: wrong client secret or password (400 invalid_grant / 401 invalid_client) is permanent. */
export function authenticationFailure(system: string, error: unknown, options: { timeoutMs: number; aborted: boolean }): Error {
  const status = httpStatus(error);
  if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
    const hint = status === 404 ? 'check spec.keycloak.url and spec.keycloak.authRealm' : 'check the credentials Secret';
    return new PermanentError(`Keycloak authentication failed for ${system} (HTTP ${status}${describe(error)}): ${hint}`, { scope: 'system' });
  }
  return keycloakFailure(system, 'authentication', error, options);
}

const MAX_DETAIL = 120;
/** An OAuth 2.0 error code (RFC 6749 §5.2: invalid_grant, unauthorized_client, ...). */
const OAUTH_ERROR = /^[a-z_]{1,40}$/;

/**
 * Keycloak's own error fields, one short printable line: an OAuth error code (and its description
 * only beside one), or the admin API's `errorMessage`. Any other body is never repeated: a tenant
 * who points spec.keycloak.url at an internal service must not read its answers in the status.
 */
function describe(error: unknown): string {
  const data = (error as { responseData?: unknown }).responseData;
  if (!data || typeof data !== 'object') return '';
  const fields = data as Record<string, unknown>;
  const code = typeof fields['error'] === 'string' && OAUTH_ERROR.test(fields['error']) ? fields['error'] : undefined;
  const parts = [code, code ? fields['error_description'] : undefined, fields['errorMessage']].filter((part): part is string => typeof part === 'string');
  const line = parts
    .join(': ')
    .replace(/[\p{Cc}\p{Cf}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!line) return '';
  return ` (${line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL)}…` : line})`;
}

function isTimeout(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    if (current.name === 'TimeoutError' || current.name === 'AbortError') return true;
  }
  return false;
}

function networkCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function networkReason(error: unknown): string {
  const code = networkCode(error);
  return code ? `connection failed (${code})` : 'connection failed';
}
