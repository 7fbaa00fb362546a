// A per-system circuit breaker: after a system fails with a retryable error, calls to it fail
// fast until a backoff delay has passed, so Users queued behind a dead system do not each wait
// for a timeout and hold workers that other systems' Users need. The delay is measured on the
// monotonic clock: it is about a real remote outage, not the domain date.
import { RetryableError } from '../api/index.ts';
import { backoffDelay } from '../queue/backoff.ts';

export class Circuit {
  #failures = 0;
  #openUntil = 0;
  #lastError = '';
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Throws a RetryableError while the circuit is open. */
  guard(system: string): void {
    const wait = this.#openUntil - this.#now();
    // The message stays the same while the circuit is open, so status is not rewritten on each retry.
    if (wait > 0) throw new RetryableError(`${system} is unavailable: ${this.#lastError}`, { retryAfterMs: wait });
  }

  succeeded(): void {
    this.#failures = 0;
    this.#openUntil = 0;
  }

  failed(error: unknown): void {
    if (!(error instanceof RetryableError)) return;
    this.#failures++;
    this.#lastError = error.message.replace(/^\S+ is unavailable: /, '');
    this.#openUntil = this.#now() + backoffDelay(this.#failures, { baseMs: 1000, maxMs: 60_000 });
  }
}
