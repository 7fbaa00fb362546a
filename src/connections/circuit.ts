// A per-system circuit breaker: after a system-level failure (see Connections.use for how one is
// told from an account's), calls to it fail fast until a backoff delay has passed, so Users queued
// behind a dead system do not each wait for a timeout and hold workers that other systems' Users
// need. The delay is measured on the monotonic clock: it is about a real remote outage, not the
// domain date.
import { PermanentError, RetryableError } from '../api/index.ts';
import { backoffDelay } from '../queue/backoff.ts';

export class Circuit {
  #failures = 0;
  #openUntil = 0;
  #lastError = '';
  /** Wrong credentials or a refused TLS certificate: fast failures say so as the permanent error they are. */
  #permanent = false;
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Throws while the circuit is open: a RetryableError, or a PermanentError if that is what opened it. */
  guard(system: string): void {
    const wait = this.#openUntil - this.#now();
    if (wait <= 0) return;
    // The message stays the same while the circuit is open, so status is not rewritten on each retry.
    const message = `${system} is unavailable: ${this.#lastError}`;
    throw this.#permanent ? new PermanentError(message, { scope: 'system' }) : new RetryableError(message, { retryAfterMs: wait, scope: 'system' });
  }

  succeeded(): void {
    this.#failures = 0;
    this.#openUntil = 0;
  }

  /** The system as a whole failed (the caller decided it was not one account's request): open. */
  failed(error: unknown): void {
    // Only a failure while the circuit is closed is a new try that failed. One reported while it is
    // open is the same outage: a call already under way when it opened, or guard()'s own fast
    // failure handed back. Counted, each would double the wait again, and a few seconds' outage
    // with forty Users queued left the system untried for a minute.
    const open = this.#openUntil > this.#now();
    if (!open) this.#failures++;
    this.#permanent = error instanceof PermanentError;
    this.#lastError = (error instanceof Error ? error.message : String(error)).replace(/^\S+ is unavailable: /, '');
    // A wait the system asked for (Retry-After) is kept even when the backoff is shorter.
    const asked = error instanceof RetryableError ? (error.retryAfterMs ?? 0) : 0;
    const backoff = open ? 0 : backoffDelay(this.#failures, { baseMs: 1000, maxMs: 60_000 });
    this.#openUntil = Math.max(open ? this.#openUntil : 0, this.#now() + Math.max(backoff, asked));
  }
}
