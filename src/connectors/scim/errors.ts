// What a failed SCIM answer means for the work queue, in words a person can act on.
import { PermanentError, RetryableError } from '../../api/index.ts';

/**
 * 401/403 are wrong credentials; 429 and 5xx are a busy or broken server (retry later); any other
 * 4xx is a request the server refuses, which retrying will not change. Only a well-formed SCIM
 * error document's scimType and detail (RFC 7644 §3.12) go into the message, shortened; any other
 * body never does (the tenant who chose the URL reads the status: it must not carry what an
 * internal service answered). The credentials never do.
 * Scope: wrong credentials, 429 (a rate limit) and 503 (unavailable) are the system's; any other
 * 4xx (400, 409, 413, ...) refuses this request; another 5xx may be one request tripping a server bug,
 * so it is left for the connections layer to find out.
 */
export function scimFailure(system: string, what: string, status: number, body: unknown, retryAfterMs?: number): Error {
  if (status === 401 || status === 403) {
    return new PermanentError(`SCIM authentication failed for ${system} (HTTP ${status}): check the credentials Secret`, { scope: 'system' });
  }
  const detail = describeBody(body);
  if (status === 429 || status >= 500) {
    const scope = status === 429 || status === 503 ? 'system' : undefined;
    return new RetryableError(`SCIM ${what} on ${system} failed: HTTP ${status}${detail}`, { retryAfterMs, scope });
  }
  return new PermanentError(`SCIM ${what} on ${system} was refused: HTTP ${status}${detail}`, { scope: 'account' });
}

const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const MAX_DETAIL = 120;

function describeBody(body: unknown): string {
  if (!body || typeof body !== 'object') return '';
  const { schemas, scimType, detail } = body as { schemas?: unknown; scimType?: unknown; detail?: unknown };
  if (!Array.isArray(schemas) || !schemas.includes(SCIM_ERROR_SCHEMA)) return '';
  const parts = [
    typeof scimType === 'string' && /^[A-Za-z]{1,32}$/.test(scimType) ? `scimType ${scimType}` : undefined,
    typeof detail === 'string' ? sanitized(detail) : undefined,
  ];
  const text = parts.filter(Boolean).join(', ');
  return text ? ` (${text})` : '';
}

/** One short line of printable text: no control characters, at most MAX_DETAIL characters. */
function sanitized(text: string): string | undefined {
  const line = text
    .replace(/[\p{Cc}\p{Cf}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!line) return undefined;
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL)}…` : line;
}
