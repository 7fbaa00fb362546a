// One request to the API server: bounded in time, cancellable, and mapped to typed errors.
import { Observable, type ConfigurationOptions } from '@kubernetes/client-node';
import { RetryableError } from '../../api/index.ts';
import { withTimeout } from '../timeout.ts';
import { connectorError } from './errors.ts';

export interface CallSettings {
  /** `namespace/name` of the ConnectedSystem, for messages. */
  system: string;
  timeoutMs: number;
}

/**
 * Runs `run` with request options that abort the HTTP request (closing its socket) when the caller
 * gives up or the timeout passes, so a hung API server holds no connection. `permission` is the
 * RBAC rule the call needs, named in the error a 403 becomes.
 */
export async function apiCall<T>(
  settings: CallSettings,
  what: string,
  permission: string,
  signal: AbortSignal,
  run: (options: ConfigurationOptions) => Promise<T>,
): Promise<T> {
  const requestSignal = AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutMs)]);
  const options: ConfigurationOptions = {
    middleware: [
      {
        pre: (request) => {
          request.setSignal(requestSignal);
          return new Observable(Promise.resolve(request));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
  const context = `kubernetes system ${settings.system}: ${what}`;
  try {
    return await withTimeout(context, settings.timeoutMs, signal, () => run(options));
  } catch (error) {
    // The request's own deadline may fire a moment before withTimeout's: say the same thing either way.
    if (requestSignal.aborted && !signal.aborted) throw new RetryableError(`${context}: no answer within ${settings.timeoutMs} ms`, { cause: error });
    throw connectorError(settings.system, what, permission, error);
  }
}
