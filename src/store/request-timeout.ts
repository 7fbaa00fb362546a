// A deadline on every call a client-node API client makes. client-node sets none, so one request
// the API server (or a proxy, or a dead connection) never answers would hold its caller forever:
// a reconcile never finishes, and the watchdog's re-list never returns to restart anything.
import { Observable, type RequestContext, type ResponseContext } from '@kubernetes/client-node';
import { RetryableError } from '../api/index.ts';

/** Default deadline of one API request: far above a healthy answer (milliseconds), short enough to retry soon. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Per-call middleware in the form client-node runs it: its promise API declares promise middleware
 * but hands the options to the observable layer unconverted (setHeaderOptions builds this form too).
 */
interface ObservableMiddleware {
  pre(context: RequestContext): Observable<RequestContext>;
  post(context: ResponseContext): Observable<ResponseContext>;
}
type Options = { middleware?: ObservableMiddleware[]; middlewareMergeStrategy?: 'append' | 'prepend' | 'replace' };

/**
 * The same API client, each of whose calls aborts after `timeoutMs` (headers and body together).
 * A call that timed out rejects with a RetryableError naming the call, so callers back off and retry.
 */
export function withRequestTimeout<T extends object>(api: T, timeoutMs: number): T {
  // Per-call middleware takes client-node's Observable form even on its promise API (as setHeaderOptions does).
  const deadline: ObservableMiddleware = {
    // A new signal per request: a retried call gets its full time again.
    pre: (context: RequestContext) => (context.setSignal(AbortSignal.timeout(timeoutMs)), new Observable(Promise.resolve(context))),
    post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
  };
  return new Proxy(api, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (param: unknown, options?: Options) => {
        // Appended to the caller's middleware (a Content-Type for a merge patch, say), not replacing it.
        const timed: Options = { ...options, middleware: [...(options?.middleware ?? []), deadline], middlewareMergeStrategy: 'append' };
        try {
          return await (value as (p: unknown, o: Options) => Promise<unknown>).call(target, param, timed);
        } catch (error) {
          if (isTimeout(error)) throw new RetryableError(`the API server did not answer ${String(property)} within ${timeoutMs / 1000}s`, { cause: error });
          throw error;
        }
      };
    },
  });
}

function isTimeout(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) if (e.name === 'TimeoutError') return true;
  return false;
}
