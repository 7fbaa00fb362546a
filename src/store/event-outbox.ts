// Kubernetes Events that could not be posted are kept and posted again with backoff, never
// dropped in silence: a reconcile does not wait for them (an Event must not fail a sync), but the
// reader of `kubectl describe` still gets every Event once the API server takes them again. What
// cannot be posted in the end (a refusal after every attempt, a full outbox, shutdown) is logged
// at error level with the Event itself, so the log keeps it.
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock/clock.ts';

export interface OutboxOptions {
  /** First retry after this long; doubles per attempt up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Attempts per Event, the first included, before it is logged as lost. */
  maxAttempts?: number;
  /** Events kept at most; beyond it the oldest is logged as lost. */
  maxPending?: number;
}

interface Pending<E> {
  event: E;
  attempts: number;
  about: string;
}

export class EventOutbox<E> {
  readonly #send: (event: E) => Promise<void>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxAttempts: number;
  readonly #maxPending: number;
  #pending: Pending<E>[] = [];
  #timer: Timer | undefined;
  #retrying: Promise<void> | undefined;

  constructor(send: (event: E) => Promise<void>, clock: Clock, logger: Logger, options: OutboxOptions = {}) {
    this.#send = send;
    this.#clock = clock;
    this.#logger = logger;
    this.#baseDelayMs = options.baseDelayMs ?? 1_000;
    this.#maxDelayMs = options.maxDelayMs ?? 60_000;
    this.#maxAttempts = options.maxAttempts ?? 12;
    this.#maxPending = options.maxPending ?? 1_000;
  }

  /** Events waiting for a retry. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Posts the Event; on failure keeps it for a retry. Never throws. `about` names it in logs. */
  async post(event: E, about: string): Promise<void> {
    await this.#attempt({ event, attempts: 0, about });
    this.#arm();
  }

  /** One last attempt for what is pending, then logs whatever is still not posted. */
  async close(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#retrying;
    const last = this.#pending;
    this.#pending = [];
    for (const item of last) {
      try {
        await this.#send(item.event);
      } catch (error) {
        this.#lost(item, error, 'at shutdown');
      }
    }
  }

  async #attempt(item: Pending<E>): Promise<void> {
    try {
      await this.#send(item.event);
    } catch (error) {
      const attempts = item.attempts + 1;
      if (attempts >= this.#maxAttempts) return this.#lost(item, error, `after ${attempts} attempts`);
      this.#logger.warn({ err: error, event: item.about, attempts }, 'could not post an Event; it will be retried');
      this.#pending.push({ ...item, attempts });
      if (this.#pending.length > this.#maxPending) this.#lost(this.#pending.shift()!, error, 'the outbox is full');
    }
  }

  #lost(item: Pending<E>, error: unknown, why: string): void {
    this.#logger.error({ err: error, event: item.about, lostEvent: item.event }, `an Event could not be posted (${why}); it is kept only in this log line`);
  }

  #arm(): void {
    if (this.#timer || this.#retrying || this.#pending.length === 0) return;
    const attempts = Math.min(...this.#pending.map((p) => p.attempts));
    const delay = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** Math.max(0, attempts - 1));
    this.#timer = this.#clock.setTimer(new Date(this.#clock.now().getTime() + delay), () => {
      this.#timer = undefined;
      this.#retrying = this.#retryAll().finally(() => {
        this.#retrying = undefined;
        this.#arm();
      });
    });
  }

  async #retryAll(): Promise<void> {
    const due = this.#pending;
    this.#pending = [];
    for (const item of due) await this.#attempt(item);
  }
}
