// What a failed SCIM answer means for the work queue, in words a person can act on.
import { PermanentError, RetryableError } from '../../api/index.ts';

/**
 * 401/403 are wrong credentials; 429 and 5xx are a busy or broken server (retry later); any other
 * 4xx is a request the server refuses, which retrying will not change. The SCIM error body's
 * scimType and detail (RFC 7644 §3.12) go into the message; the credentials never do.
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

function describeBody(body: unknown): string {
  if (typeof body === 'string') return body ? `: ${body}` : '';
  if (!body || typeof body !== 'object') return '';
  const { scimType, detail } = body as { scimType?: unknown; detail?: unknown };
  const parts = [typeof scimType === 'string' ? `scimType ${scimType}` : undefined, typeof detail === 'string' ? detail : undefined];
  const text = parts.filter(Boolean).join(', ');
  return text ? ` (${text})` : '';
}
