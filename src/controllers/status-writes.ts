// A User's status write need not hold the worker that computed it. Behind a busy API server one
// write takes hundreds of milliseconds, and a worker that waits for it cuts off no leaver meanwhile:
// a burst of 100 leavers went through 8 workers at the API server's pace, not the systems'.
// So a reconcile hands its write over and ends; the writes run beside the workers, at most `max`
// at once (past that, a reconcile waits for a slot: the API server sets the pace, and the backlog
// stays bounded).
//
// One User's writes stay in order: its next reconcile waits for the write before it reads (`settled`).
// A write that fails queues the User again, and its next reconcile throws that failure, so the work
// queue's backoff applies as if the reconcile itself had failed.
import { RunningCount } from '../queue/running-count.ts';

export class StatusWrites {
  readonly #max: number;
  readonly #onFailed: (key: string) => void;
  /** The write under way (or waiting for a slot) per key. */
  readonly #pending = new Map<string, Promise<void>>();
  /** A failed write's error per key, until the key's next reconcile throws it. */
  readonly #failed = new Map<string, unknown>();
  readonly #running = new RunningCount();
  #slots: Array<() => void> = [];

  /** `onFailed(key)` queues the key again after its write failed. */
  constructor(options: { max: number; onFailed: (key: string) => void }) {
    this.#max = options.max;
    this.#onFailed = options.onFailed;
  }

  /** Waits for the key's write, if one is under way; throws, once, the failure of the last one. */
  async settled(key: string): Promise<void> {
    await this.#pending.get(key);
    if (!this.#failed.has(key)) return;
    const error = this.#failed.get(key);
    this.#failed.delete(key);
    throw error;
  }

  /**
   * Starts the key's write and resolves once it is under way: at once, or when a slot is free. The
   * caller has awaited `settled(key)`, so no other write of the key is under way.
   */
  async start(key: string, write: () => Promise<unknown>): Promise<void> {
    this.#running.started();
    // #running counts this write already: it has a slot while no more than `max` are under way.
    const slot = this.#running.value <= this.#max ? Promise.resolve() : new Promise<void>((resolve) => this.#slots.push(resolve));
    const done = slot
      .then(write)
      .then(
        () => undefined,
        (error: unknown) => {
          this.#failed.set(key, error);
          this.#onFailed(key);
        },
      )
      .finally(() => {
        if (this.#pending.get(key) === done) this.#pending.delete(key);
        this.#release();
      });
    this.#pending.set(key, done);
    await slot;
  }

  /** Writes under way or waiting for a slot. */
  get running(): number {
    return this.#running.value;
  }

  /** Resolves once no write is under way. */
  idle(): Promise<void> {
    return this.#running.idle();
  }

  #release(): void {
    this.#slots.shift()?.();
    this.#running.ended();
  }
}
