import { RetryableError } from '../api/index.ts';

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Bounds one remote call: past `ms` (or when `signal` aborts) it rejects with a RetryableError
 * naming `what`, so a hung server never holds a worker forever.
 */
export async function withTimeout<T>(what: string, ms: number, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RetryableError(`${what}: no answer within ${ms} ms`)), ms);
    onAbort = () => reject(new RetryableError(`${what}: aborted`));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([run(), deadline]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
