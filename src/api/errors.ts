// Two kinds of failure, named so the work queue knows what to do with them.

/** Temporary: the system is down, slow, or busy. The work queue backs off and retries. */
export class RetryableError extends Error {
  override name = 'RetryableError';
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** Will not get better by retrying (wrong credentials, a value the system refuses): reported, not retried until the input changes. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

export function isPermanent(error: unknown): error is PermanentError {
  return error instanceof PermanentError;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
