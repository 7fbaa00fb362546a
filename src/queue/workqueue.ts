// One work queue per kind, keyed by "namespace/name", with the guarantees of client-go's workqueue
// and controller-runtime's reconcileHandler:
// - a key added again while it waits is processed once (dedupe);
// - a key is never reconciled by two workers at once: added while running, it runs once more after;
// - a failure retries with per-key exponential backoff, reset by a success;
// - a PermanentError is reported and not retried (the next change to the input will add the key);
// - a success may ask for one wake-up (`requeueAt`, e.g. the next `validUntil`); an error never does;
// - with `perGroup`, at most `max` keys of one group (a namespace: a tenant) run at once, so one
//   tenant's slow keys cannot hold every worker; the others of that group wait, parked, for a slot.
// p-queue supplies the worker pool and the overall rate limit.
import PQueue from 'p-queue';
import { RetryableError, isPermanent } from '../api/errors.ts';
import { DEFAULT_BACKOFF, backoffDelay } from './backoff.ts';
import { systemClock, type Clock, type Timer } from '../clock/clock.ts';
import { yieldIfBusy } from './yield.ts';
import type { Metrics } from '../process/metrics.ts';

export interface ReconcileOutcome {
  /** Reconcile this key again at this time even if nothing changes (expiry, retention, resync). */
  requeueAt?: Date;
}

export type ReconcileFn = (key: string) => Promise<ReconcileOutcome | void>;

export interface WorkQueueOptions {
  /** The controller name: a label on every metric. */
  name: string;
  /** How many keys reconcile at the same time. */
  concurrency: number;
  reconcile: ReconcileFn;
  /** At most `perInterval` reconciles start in any window of `intervalMs` (a sliding window). */
  rateLimit?: { intervalMs: number; perInterval: number };
  backoff?: { baseMs?: number; maxMs?: number; jitter?: number };
  /** Every failed reconcile; `retryInMs` is undefined when the key will not be retried (PermanentError). */
  onError?: (key: string, error: unknown, retryInMs: number | undefined) => void;
  metrics?: Metrics;
  /** Source of jitter, for tests. */
  random?: () => number;
  /** Wake-ups and retries are instants on this clock (default: real time). */
  clock?: Clock;
  /** At most `max` keys of the same group (`of(key)`) run at once; must be below `concurrency` to leave room for others. */
  perGroup?: { of: (key: string) => string; max: number };
  /**
   * Workers of their own for urgent keys (a leaver, a deadline), beside `concurrency`: a burst of
   * leavers does not wait for the joiners and resyncs running when it came. Default 0.
   */
  urgentConcurrency?: number;
}

/** p-queue priority of urgent keys (the others run at 0). */
const URGENT = 1;

export class WorkQueue {
  readonly name: string;
  readonly #options: WorkQueueOptions;
  readonly #backoff: { baseMs: number; maxMs: number; jitter: number };
  readonly #pool: PQueue;
  /** The urgent keys' own workers (urgentConcurrency); an urgent key is in both pools, and the first free worker takes it. */
  readonly #urgentPool: PQueue | undefined;
  /** Keys handed to p-queue and not yet started, with the time they were enqueued (for queue_duration). */
  readonly #waiting = new Map<string, number>();
  readonly #processing = new Set<string>();
  /** Keys added while they were processing: they run once more when the current run ends. */
  readonly #dirty = new Set<string>();
  /** Keys that go ahead of the others when they start: a leaver, a deadline. Cleared when they start. */
  readonly #urgent = new Set<string>();
  readonly #failures = new Map<string, number>();
  /** Running keys per group (perGroup). */
  readonly #runningInGroup = new Map<string, number>();
  /** Keys whose group was full when their turn came, per group, in order: they start as others of the group end. */
  readonly #parked = new Map<string, string[]>();
  readonly #parkedKeys = new Set<string>();
  /** At most one pending timer per key: a wake-up or a backoff retry. */
  readonly #delayed = new Map<string, { atMs: number; timer: Timer }>();
  readonly #clock: Clock;
  #idleWaiters: Array<() => void> = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#backoff = { ...DEFAULT_BACKOFF, ...stripUndefined(options.backoff ?? {}) };
    this.#pool = new PQueue({
      concurrency: options.concurrency,
      autoStart: false,
      ...(options.rateLimit ? { interval: options.rateLimit.intervalMs, intervalCap: options.rateLimit.perInterval, strict: true } : {}),
    });
    this.#urgentPool = options.urgentConcurrency ? new PQueue({ concurrency: options.urgentConcurrency, autoStart: false }) : undefined;
  }

  /** Starts the workers. Keys added before this wait, like controller-runtime queues events before its workers start. */
  start(): void {
    if (this.#shuttingDown) return;
    this.#options.metrics?.maxConcurrentReconciles.set({ controller: this.name }, this.#options.concurrency);
    this.#pool.start();
    this.#urgentPool?.start();
  }

  /**
   * Queues the key (once: a key already waiting is not queued twice). An urgent key goes ahead of
   * every key that is not: a leaver must not wait behind thousands of joiners or a resync.
   */
  add(key: string, options: { urgent?: boolean } = {}): void {
    if (this.#shuttingDown) return;
    if (options.urgent && !this.#urgent.has(key)) {
      this.#urgent.add(key);
      if (this.#waiting.has(key)) {
        this.#pool.setPriority(key, URGENT);
        this.#addUrgent(key);
      }
    }
    // Already due to run: the run will see the latest state anyway.
    if (this.#waiting.has(key) || this.#dirty.has(key) || this.#parkedKeys.has(key)) return;
    this.#options.metrics?.workqueueAdds.inc({ name: this.name });
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    this.#enqueue(key);
  }

  /** Adds the key after a delay. If the key already has a pending delayed add, the earlier one wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    this.addAt(key, new Date(this.#clock.now().getTime() + delayMs));
  }

  /** Adds the key when the clock reaches `at` (at once if it has passed). The earliest pending add wins. */
  addAt(key: string, at: Date): void {
    if (this.#shuttingDown) return;
    this.#schedule(key, at.getTime(), 'keepEarliest');
  }

  /** Keys waiting to start (not counting running ones or pending timers). */
  len(): number {
    return this.#waiting.size + this.#parkedKeys.size;
  }

  /** The key waits to run, runs, or will run again right after. */
  has(key: string): boolean {
    return this.#waiting.has(key) || this.#processing.has(key) || this.#dirty.has(key) || this.#parkedKeys.has(key);
  }

  /** No key waits or runs right now. */
  isIdle(): boolean {
    return this.#isIdle();
  }

  /** Resolves when no key waits or runs. Pending wake-ups and backoff retries do not count. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops taking work, drops waiting keys and timers, and resolves once the running reconciles finish. */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) timer.cancel();
    this.#delayed.clear();
    this.#pool.clear();
    this.#urgentPool?.clear();
    this.#waiting.clear();
    this.#dirty.clear();
    this.#urgent.clear();
    this.#parked.clear();
    this.#parkedKeys.clear();
    this.#updateDepth();
    this.#notifyIfIdle();
    await this.idle();
    this.#pool.pause();
    this.#urgentPool?.pause();
  }

  #enqueue(key: string): void {
    this.#waiting.set(key, performance.now());
    this.#updateDepth();
    // The task never throws; the promise only rejects when shutdown() clears the pool.
    this.#pool.add(() => this.#process(key), { id: key, priority: this.#urgent.has(key) ? URGENT : 0 }).catch(() => undefined);
    if (this.#urgent.has(key)) this.#addUrgent(key);
  }

  /** Also in the urgent keys' own pool: whichever worker is free first runs it (#process runs a key only while it waits). */
  #addUrgent(key: string): void {
    this.#urgentPool?.add(() => this.#process(key)).catch(() => undefined);
  }

  async #process(key: string): Promise<void> {
    const metrics = this.#options.metrics;
    const enqueuedAt = this.#waiting.get(key);
    if (enqueuedAt === undefined) return; // dropped by shutdown()
    this.#waiting.delete(key);
    const group = this.#options.perGroup;
    const groupOf = group?.of(key);
    if (group && groupOf !== undefined) {
      const running = this.#runningInGroup.get(groupOf) ?? 0;
      if (running >= group.max) {
        // Its group holds its share of workers: give this worker to another group's key.
        this.#parked.set(groupOf, [...(this.#parked.get(groupOf) ?? []), key]);
        this.#parkedKeys.add(key);
        this.#updateDepth();
        return;
      }
      this.#runningInGroup.set(groupOf, running + 1);
    }
    this.#urgent.delete(key);
    this.#updateDepth();
    this.#processing.add(key);
    const startedAt = performance.now();
    metrics?.workqueueQueueDuration.observe({ name: this.name }, (startedAt - enqueuedAt) / 1000);
    metrics?.activeWorkers.inc({ controller: this.name });
    try {
      // Reconciles that find nothing to do never wait for I/O: without this, thousands of them
      // would run back to back as microtasks and starve every timer and socket.
      await yieldIfBusy();
      const outcome = await this.#options.reconcile(key);
      this.#succeeded(key, outcome ?? undefined);
    } catch (error) {
      this.#failed(key, error);
    } finally {
      const seconds = (performance.now() - startedAt) / 1000;
      metrics?.reconcileTime.observe({ controller: this.name }, seconds);
      metrics?.workqueueWorkDuration.observe({ name: this.name }, seconds);
      metrics?.activeWorkers.dec({ controller: this.name });
      this.#processing.delete(key);
      if (this.#dirty.delete(key) && !this.#shuttingDown) this.#enqueue(key);
      if (groupOf !== undefined) this.#releaseGroupSlot(groupOf);
      this.#notifyIfIdle();
    }
  }

  #succeeded(key: string, outcome: ReconcileOutcome | undefined): void {
    this.#failures.delete(key);
    const requeueAt = outcome?.requeueAt;
    this.#options.metrics?.reconcileTotal.inc({ controller: this.name, result: requeueAt ? 'requeue_after' : 'success' });
    if (requeueAt) this.addAt(key, requeueAt);
  }

  #failed(key: string, error: unknown): void {
    const metrics = this.#options.metrics;
    metrics?.reconcileErrors.inc({ controller: this.name });
    metrics?.reconcileTotal.inc({ controller: this.name, result: 'error' });
    if (isPermanent(error)) {
      metrics?.terminalReconcileErrors.inc({ controller: this.name });
      // Start from the base delay once the input changes and a new error comes.
      this.#failures.delete(key);
      this.#options.onError?.(key, error, undefined);
      return;
    }
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    let delayMs = backoffDelay(failures, this.#backoff, this.#options.random);
    if (error instanceof RetryableError && error.retryAfterMs !== undefined) delayMs = Math.max(delayMs, error.retryAfterMs);
    metrics?.workqueueRetries.inc({ name: this.name });
    // The retry replaces a pending wake-up, even an earlier one: a system that asked us to wait
    // (retryAfterMs) must not be hit sooner, and the successful retry will ask for its wake-up again.
    if (!this.#shuttingDown) this.#schedule(key, this.#clock.now().getTime() + delayMs, 'replace');
    this.#options.onError?.(key, error, delayMs);
  }

  #schedule(key: string, atMs: number, mode: 'keepEarliest' | 'replace'): void {
    const pending = this.#delayed.get(key);
    if (pending && mode === 'keepEarliest' && pending.atMs <= atMs) return;
    pending?.timer.cancel();
    // A wake-up is a deadline (access ends, a start date, a retention): it goes ahead. A retry does not.
    const urgent = mode === 'keepEarliest';
    const timer = this.#clock.setTimer(new Date(atMs), () => {
      this.#delayed.delete(key);
      this.add(key, { urgent });
    });
    this.#delayed.set(key, { atMs, timer });
  }

  /** One key of the group ended: the first key parked for it goes back in line. */
  #releaseGroupSlot(group: string): void {
    const running = (this.#runningInGroup.get(group) ?? 1) - 1;
    if (running > 0) this.#runningInGroup.set(group, running);
    else this.#runningInGroup.delete(group);
    const parked = this.#parked.get(group);
    const next = parked?.shift();
    if (parked?.length === 0) this.#parked.delete(group);
    if (next === undefined) return;
    this.#parkedKeys.delete(next);
    if (!this.#shuttingDown) this.#enqueue(next);
  }

  #isIdle(): boolean {
    return this.#waiting.size === 0 && this.#processing.size === 0;
  }

  #notifyIfIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #updateDepth(): void {
    this.#options.metrics?.workqueueDepth.set({ name: this.name }, this.#waiting.size + this.#parkedKeys.size);
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
