// API-server failures mapped to the two errors the work queue understands, each naming the system.
import { ApiException } from '@kubernetes/client-node';
import { errorMessage, PermanentError, RetryableError } from '../../api/index.ts';
import { socketFailureScope } from '../unreachable.ts';

/** The HTTP status behind an error, also when it is already wrapped in a Rollcall error (as its cause). */
export function statusCode(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof ApiException ? cause.code : undefined;
}

/** The Status message the API server sent, never the raw exception text (which repeats headers and body). */
function serverMessage(error: ApiException<unknown>): string {
  let body: unknown = error.body;
  if (typeof body === 'string') {
    const text = body;
    try {
      body = JSON.parse(text);
    } catch {
      return text.slice(0, 300);
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : `HTTP ${error.code}`;
}

/**
 * `what` names the call, e.g. `grant "alice" ClusterRole/view`; `permission` the RBAC rule it needs.
 * Scope (whom the failure blames): an API server nobody answers at, rejected credentials, 429 and 503
 * are the system's; 403 (one namespace or role out of Rollcall's reach) and other 4xx refuse this
 * request; a reset connection or another 5xx is left for the connections layer to find out.
 */
export function connectorError(system: string, what: string, permission: string, error: unknown): Error {
  if (error instanceof RetryableError || error instanceof PermanentError) return error;
  const context = `kubernetes system ${system}: ${what}`;
  if (!(error instanceof ApiException)) {
    // No HTTP answer at all: refused, reset, DNS, TLS handshake cut short. The cluster may come back.
    const cause = (error as { cause?: { code?: unknown } }).cause;
    return new RetryableError(`${context}: cannot reach the API server (${networkReason(error)}); will retry`, {
      cause: error,
      scope: socketFailureScope(cause?.code),
    });
  }
  const code = error.code;
  if (code === 401) {
    return new PermanentError(`Kubernetes authentication failed for ${system}: the API server rejected the credentials; check the kubeconfig or token`, {
      cause: error,
      scope: 'system',
    });
  }
  if (code === 403) {
    return new PermanentError(`${context}: forbidden; Rollcall's identity needs permission to ${permission} (${serverMessage(error)})`, {
      cause: error,
      scope: 'account',
    });
  }
  if (code === 429 || code >= 500) {
    const retryAfter = Number(error.headers?.['retry-after']);
    return new RetryableError(`${context}: API server busy or failing (HTTP ${code}: ${serverMessage(error)}); will retry`, {
      cause: error,
      scope: code === 429 || code === 503 ? 'system' : undefined,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    });
  }
  // 400, 404 (a namespace that does not exist), 422 (a value the server refuses): the input must change.
  return new PermanentError(`${context}: refused by the API server (HTTP ${code}: ${serverMessage(error)})`, { cause: error, scope: 'account' });
}

function networkReason(error: unknown): string {
  // undici wraps the socket error: "fetch failed" with the useful code in `cause`.
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return errorMessage(error);
}
