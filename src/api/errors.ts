// Two kinds of failure, named so the work queue knows what to do with them, and a scope, named so
// the connections layer knows whom to blame: the whole system (open its circuit) or one account.

/**
 * Whom a remote failure is about. `system`: every account would fail the same way (refused
 * connection, DNS, TLS, wrong credentials, a server that says it is unavailable). `account`: this
 * request was refused (a value the server rejects, a constraint). Undefined: it cannot tell (a
 * dropped connection, a timeout), and the connections layer asks the system before blaming it.
 */
export type FailureScope = 'system' | 'account';

interface ErrorOptions {
  cause?: unknown;
  scope?: FailureScope;
  /** The account attributes (Rollcall's names: email, displayName, ...) a refusal is about, when the connector can tell. */
  attributes?: readonly string[];
}

/** Temporary: the system is down, slow, or busy. The work queue backs off and retries. */
export class RetryableError extends Error {
  override name = 'RetryableError';
  readonly retryAfterMs: number | undefined;
  readonly scope: FailureScope | undefined;
  readonly attributes: readonly string[] | undefined;
  constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
    this.scope = options?.scope;
    this.attributes = options?.attributes;
  }
}

/** Will not get better by retrying (wrong credentials, a value the system refuses): reported, not retried until the input changes. */
export class PermanentError extends Error {
  override name = 'PermanentError';
  readonly scope: FailureScope | undefined;
  readonly attributes: readonly string[] | undefined;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.scope = options?.scope;
    this.attributes = options?.attributes;
  }
}

export function isPermanent(error: unknown): error is PermanentError {
  return error instanceof PermanentError;
}

/**
 * Whom `error` blames, or undefined when it cannot tell. A PermanentError without a scope is a
 * refusal of this one request (the common case: a value, a missing account); a RetryableError or
 * an untyped error without one is ambiguous.
 */
export function failureScope(error: unknown): FailureScope | undefined {
  if (error instanceof RetryableError) return error.scope;
  if (error instanceof PermanentError) return error.scope ?? 'account';
  return undefined;
}

/** The same failure with a more telling message (what it was about): kind, scope, attributes and timing kept. */
export function withMessage(error: unknown, message: string): Error {
  if (error instanceof RetryableError)
    return new RetryableError(message, { cause: error, scope: error.scope, attributes: error.attributes, retryAfterMs: error.retryAfterMs });
  if (error instanceof PermanentError) return new PermanentError(message, { cause: error, scope: error.scope, attributes: error.attributes });
  return new Error(message, { cause: error });
}

/** The account attributes a failure is about, if the connector said. */
export function failedAttributes(error: unknown): readonly string[] | undefined {
  return error instanceof RetryableError || error instanceof PermanentError ? error.attributes : undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
