// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection package, so
// that several replicas can run and only one reconciles. The Lease's resourceVersion gives
// optimistic concurrency: of two replicas writing the same version, the API server accepts one and
// answers 409 to the other, which simply tries again next period.
import { systemClock, type Clock } from '../clock/clock.ts';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ApiException, V1MicroTime, type CoordinationV1Api, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import { decideLease } from './lease-decision.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/** The three calls we need; CoordinationV1Api provides them, tests may pass a fake API server. */
export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

export interface LeaderElectorOptions {
  api: LeaseApi;
  namespace: string;
  name: string;
  /** Defaults to hostname plus a random suffix, so two processes on one host never share it. */
  identity?: string;
  /** How long others wait after our last renewal before taking over. Default 15 s. */
  leaseDurationMs?: number;
  /** We stop leading when renewals have failed for this long. Must be shorter than the lease. Default 10 s. */
  renewDeadlineMs?: number;
  /** How often we try to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  logger?: Logger;
  metrics?: Metrics;
  /** Lease times are wall-clock dates shared with other replicas (default: real time). */
  clock?: Clock;
}

export interface LeaderCallbacks {
  /** Start the controllers; stop them when `signal` aborts. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once leadership ends, after `signal` aborted; awaited before the lease is released. */
  onStoppedLeading(): void | Promise<void>;
}

type Attempt = 'leading' | 'heldByOther' | 'failed';

export class LeaderElector {
  readonly identity: string;
  readonly #clock: Clock;
  readonly #options: LeaderElectorOptions;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  #leading = false;
  #stopRequested = false;
  #wake: AbortController = new AbortController();
  #running: Promise<void> | undefined;
  /** The Lease as we last read or wrote it: its resourceVersion guards our next write. */
  #lastSeen: V1Lease | undefined;
  /** Why onStartedLeading failed, if it did: leadership was then given up. */
  #startFailure: unknown;

  constructor(options: LeaderElectorOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.identity = options.identity ?? `${hostname()}_${randomUUID().slice(0, 8)}`;
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.#renewDeadlineMs >= this.#leaseDurationMs) throw new Error('leader election: renewDeadlineMs must be shorter than leaseDurationMs');
    if (this.#retryPeriodMs >= this.#renewDeadlineMs) throw new Error('leader election: retryPeriodMs must be shorter than renewDeadlineMs');
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** The error onStartedLeading failed with; run() then ended and the Lease was released. */
  get startFailure(): unknown {
    return this.#startFailure;
  }

  /**
   * Campaigns until it leads, then renews until leadership is lost (renewals failing past the renew
   * deadline, or another holder seen) or release() is called. Resolves when leadership has ended;
   * a process that lost it should exit, as controller-runtime does.
   */
  run(callbacks: LeaderCallbacks): Promise<void> {
    if (this.#running) throw new Error('leader election: run() was already called');
    this.#running = this.#loop(callbacks);
    return this.#running;
  }

  /** Stops leading, and if we led, empties holderIdentity so another replica takes over at once. */
  async release(): Promise<void> {
    this.#stopRequested = true;
    this.#wake.abort();
    await this.#running;
  }

  async #loop(callbacks: LeaderCallbacks): Promise<void> {
    let work: AbortController | undefined;
    let lastRenewal = 0;
    while (!this.#stopRequested) {
      const deadline = this.#leading ? lastRenewal + this.#renewDeadlineMs - performance.now() : this.#renewDeadlineMs;
      const attempt = await withTimeout(this.#tryAcquireOrRenew(), Math.max(deadline, 0), 'failed' as const);
      if (attempt === 'leading') {
        lastRenewal = performance.now();
        if (!this.#leading) {
          this.#leading = true;
          this.#options.metrics?.leader.set(1);
          this.#options.logger?.info({ lease: this.#leaseName(), identity: this.identity }, 'became leader');
          work = new AbortController();
          this.#startLeading(callbacks, work.signal);
        }
      } else if (this.#leading && (attempt === 'heldByOther' || performance.now() - lastRenewal > this.#renewDeadlineMs)) {
        this.#options.logger?.error({ lease: this.#leaseName(), identity: this.identity, reason: attempt }, 'leadership lost');
        await this.#stopLeading(callbacks, work);
        return;
      }
      await this.#sleep(this.#retryPeriodMs);
    }
    if (this.#leading) {
      await this.#stopLeading(callbacks, work);
      await this.#releaseLease();
    }
  }

  #startLeading(callbacks: LeaderCallbacks, signal: AbortSignal): void {
    Promise.resolve()
      .then(() => callbacks.onStartedLeading(signal))
      .catch((error: unknown) => {
        // A leader whose controllers did not start would hold the Lease doing nothing, renewing it
        // for ever while the standby waits: give it up at once (stopped, then released) instead.
        this.#options.logger?.error({ err: error, lease: this.#leaseName() }, 'onStartedLeading failed; releasing the lease');
        this.#startFailure = error;
        this.#stopRequested = true;
        this.#wake.abort();
      });
  }

  async #stopLeading(callbacks: LeaderCallbacks, work: AbortController | undefined): Promise<void> {
    this.#leading = false;
    this.#options.metrics?.leader.set(0);
    work?.abort();
    try {
      await callbacks.onStoppedLeading();
    } catch (error) {
      this.#options.logger?.error({ err: error }, 'onStoppedLeading failed');
    }
  }

  async #tryAcquireOrRenew(): Promise<Attempt> {
    const { api, namespace, name } = this.#options;
    try {
      const current = await readLease(api, namespace, name);
      const decision = decideLease(current, this.identity, this.#clock.now(), { leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000) });
      switch (decision.action) {
        case 'wait':
          this.#lastSeen = current;
          return 'heldByOther';
        case 'create':
          this.#lastSeen = await api.createNamespacedLease({
            namespace,
            body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: decision.spec },
          });
          return 'leading';
        case 'acquire':
        case 'renew':
          this.#lastSeen = await this.#replace(current!, decision.spec);
          return 'leading';
      }
    } catch (error) {
      // 409: another replica wrote first (or created the Lease first); the next period re-reads it.
      const level = error instanceof ApiException && error.code === 409 ? 'debug' : 'warn';
      this.#options.logger?.[level]({ err: error, lease: this.#leaseName() }, 'could not acquire or renew the lease');
      return 'failed';
    }
  }

  async #releaseLease(): Promise<void> {
    const { api, namespace, name } = this.#options;
    try {
      const current = await readLease(api, namespace, name);
      if (current?.spec?.holderIdentity !== this.identity) return;
      const now = new V1MicroTime();
      // Like client-go's ReleaseOnCancel: an empty holder with a 1 s lease, which others take at once.
      await this.#replace(current, { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now });
      this.#options.logger?.info({ lease: this.#leaseName(), identity: this.identity }, 'released the lease');
    } catch (error) {
      // The lease expires on its own; the next leader only waits longer.
      this.#options.logger?.warn({ err: error, lease: this.#leaseName() }, 'could not release the lease');
    }
  }

  #replace(current: V1Lease, spec: V1LeaseSpec): Promise<V1Lease> {
    const { api, namespace, name } = this.#options;
    // The resourceVersion we read makes the API server refuse the write if anyone wrote since.
    return api.replaceNamespacedLease({ namespace, name, body: { ...current, spec } });
  }

  #sleep(ms: number): Promise<void> {
    if (this.#wake.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.#wake.signal;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }

  #leaseName(): string {
    return `${this.#options.namespace}/${this.#options.name}`;
  }

  /** The Lease as last read or written (for status and tests). */
  get lastSeenLease(): V1Lease | undefined {
    return this.#lastSeen;
  }
}

async function readLease(api: LeaseApi, namespace: string, name: string): Promise<V1Lease | undefined> {
  try {
    return await api.readNamespacedLease({ namespace, name });
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw error;
  }
}

/** Resolves to `fallback` if `promise` takes longer than `ms`: a hung request must not hold leadership. */
function withTimeout<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
