// Wires the store, one work queue per controlled kind and the reconcilers together. Watch events
// become keys through the one mapping table (watches.ts); reconcilers ask for other keys through
// the one enqueue port.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KindName, User } from '../api/index.ts';
import { systemClock, type Clock } from '../clock/clock.ts';
import { isLeaving } from '../engine/index.ts';
import type { Metrics } from '../process/metrics.ts';
import { WorkQueue } from '../queue/workqueue.ts';
import { yieldIfBusy } from '../queue/yield.ts';
import { keyOf, keyString, type ObjectKey, type Store } from '../store/store.ts';
import { bindingReconciler } from './binding-controller.ts';
import { reviewReconciler } from './review-controller.ts';
import { Connections, type ConnectionsOptions } from '../connections/connections.ts';
import type { AppliedChanges, ControllerContext } from './context.ts';
import { DeletionGate } from './deletion-gate.ts';
import { ObservedCache } from './observed-cache.ts';
import { UserNameIndex } from './user-name-index.ts';
import type { ControlledKind, Reconciler } from './reconciler.ts';
import type { EgressPolicy } from '../connectors/egress/guard.ts';
import { sourceReconciler } from './source-controller.ts';
import { FeedReader } from '../feeds/source-feed.ts';
import { ListingSchedule, systemReconciler } from './system-controller.ts';
import { userReconciler } from './user-controller.ts';
import { AccountSyncs } from './account-syncs.ts';
import { StatusWrites } from './status-writes.ts';
import { WATCHES, isMeaningfulChange } from './watches.ts';

export interface ManagerOptions {
  store: Store;
  logger: Logger;
  metrics?: Metrics;
  kubeconfig?: KubeConfig;
  /** Default: real time. Tests inject a TestClock; the work queues and every reconciler use it. */
  clock?: Clock;
  onApplied?: (applied: AppliedChanges) => void;
  userConcurrency?: number;
  /** How long a User's reconcile waits for a slow system before that sync goes on by itself (AccountSyncs). */
  syncPatienceMs?: number;
  timeoutMs?: number;
  /**
   * How often a system that can say whether it changed (Connector.changeToken) is asked between
   * listings (default CHANGE_POLL_MS); 0: never, drift waits for the resyncInterval.
   */
  changePollMs?: number;
  /** This process serves inbound SCIM (rollcall run --scim-port), for IdentitySources of type scim. */
  scimServed?: boolean;
  /** How far kubernetes systems of a namespace may bind beyond it (rollcall run --kubernetes-allow). */
  kubernetesReach?: ConnectionsOptions['kubernetesReach'];
  /** Cluster-internal ranges (rollcall run --cluster-cidr) and the resolver, for every system and source. */
  egress?: EgressPolicy;
  /** Largest feed body an IdentitySource reads over HTTP (rollcall run --feed-max-bytes). */
  feedMaxBytes?: number;
}

/**
 * Identity source reads in flight at once, and at most this many of them for one namespace: one, so
 * the sources of a namespace still sync one after another as before (two sources naming the same
 * User never plan against each other's half-applied sync), while other namespaces go ahead.
 */
export const SOURCE_WORKERS = 8;

/**
 * Workers of their own for leavers and deadlines, beside the User workers (WorkQueue urgentConcurrency).
 * A leaver's reconcile mostly waits on its systems, whose own limits (SYSTEM_CONCURRENCY, urgent
 * first) pace the writes: with 8, a burst of 100 leavers at 10,000 Users waited in the queue for a
 * worker (p50 0.47 s between the watch event and the reconcile); with 32, the burst's p99 went from
 * about 2 s to 1.6 s in the scale benchmark. A leaver's writes that cut access off go before any
 * leaver's follow-up (sync-account.ts), but only among the leavers holding a worker: with as many
 * workers as a burst has leavers, every one is cut off before the first is read back (p99 0.7 s).
 */
export const URGENT_USER_WORKERS = 128;

/**
 * User status writes under way at once, beside the workers (StatusWrites): enough to keep a busy
 * API server's pipeline full, few enough that a backlog of reconciles waits instead of piling up.
 */
export const STATUS_WRITES = 32;

/** How long stop() waits for the syncs still running. */
const STOP_SYNCS_MS = 5_000;

/** A sync slower than this (a slow system, or one queued behind its Users) stops holding its User's worker. */
export const SYNC_PATIENCE_MS = 1_000;
export const SOURCE_WORKERS_PER_NAMESPACE = 1;

function parseKey(key: string): ObjectKey {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export class Manager {
  readonly context: ControllerContext;
  readonly #queues: Record<ControlledKind, WorkQueue>;
  readonly #schedule: ListingSchedule;
  readonly #abort = new AbortController();
  readonly #unwatch: (() => void)[] = [];

  constructor(options: ManagerOptions) {
    const { store, logger, metrics } = options;
    const clock = options.clock ?? systemClock;
    this.#schedule = new ListingSchedule({ changePollMs: options.changePollMs });
    this.context = {
      store,
      logger,
      metrics,
      clock,
      connections: new Connections({
        store,
        logger,
        kubeconfig: options.kubeconfig,
        timeoutMs: options.timeoutMs,
        kubernetesReach: options.kubernetesReach,
        egress: options.egress,
      }),
      observed: new ObservedCache(),
      gate: new DeletionGate(),
      enqueue: (kind, key, options) => this.#queues[kind].add(keyString(key), options),
      // A User whose account sync outlived its reconcile is still in one, as far as its status goes.
      syncs: new AccountSyncs({ patienceMs: options.syncPatienceMs ?? SYNC_PATIENCE_MS, onDone: (user) => this.#queues.User.add(user) }),
      statusWrites: new StatusWrites({ max: STATUS_WRITES, onFailed: (user) => this.#queues.User.add(user) }),
      userNames: new UserNameIndex(),
      onApplied: options.onApplied,
    };
    const queue = (
      name: string,
      kind: string,
      concurrency: number,
      reconcile: Reconciler,
      perGroup?: { of: (key: string) => string; max: number },
      urgentConcurrency?: number,
    ) =>
      new WorkQueue({
        name,
        concurrency,
        perGroup,
        urgentConcurrency,
        clock,
        metrics,
        reconcile: (key) => reconcile(parseKey(key), this.#abort.signal),
        onError: (key, error, retryInMs) =>
          logger.warn({ kind, key, err: error instanceof Error ? error.message : String(error), retryInMs }, 'reconcile failed'),
      });
    this.#queues = {
      User: queue('user', 'User', options.userConcurrency ?? 8, userReconciler(this.context), undefined, URGENT_USER_WORKERS),
      ConnectedSystem: queue('connectedsystem', 'ConnectedSystem', 2, systemReconciler(this.context, this.#schedule)),
      AccessBinding: queue('accessbinding', 'AccessBinding', 2, bindingReconciler(this.context)),
      // Feed reads wait on remote servers: several at once, and never all of them for one namespace,
      // so one tenant's slow or stalled feeds (each bounded by the read timeout) delay no one else's.
      IdentitySource: queue(
        'identitysource',
        'IdentitySource',
        SOURCE_WORKERS,
        sourceReconciler(this.context, {
          scimServed: options.scimServed ?? false,
          feeds: new FeedReader(store, { egress: options.egress, maxBytes: options.feedMaxBytes, logger }),
        }),
        { of: (key) => parseKey(key).namespace, max: SOURCE_WORKERS_PER_NAMESPACE },
      ),
      AccessReview: queue('accessreview', 'AccessReview', 1, reviewReconciler(this.context)),
    };
  }

  async start(): Promise<void> {
    const { store } = this.context;
    await store.start();
    this.context.userNames.seed(store);
    for (const [kind, mapping] of Object.entries(WATCHES) as [KindName, NonNullable<(typeof WATCHES)[KindName]>][]) {
      this.#unwatch.push(
        store.watch(kind, (event, object, old) => {
          if (kind === 'User') this.context.userNames.update(keyOf(object), event === 'delete' ? undefined : (object as User));
          // A delete is always meaningful: from an informer, an object deleted without finalizers
          // arrives exactly as it was last seen (an AccessBinding removed with kubectl delete).
          if (event !== 'delete' && !isMeaningfulChange(old, object)) return;
          // A User who just started leaving goes ahead of every joiner and resync in the queue.
          const leaving = kind === 'User' && event !== 'delete' && startedLeaving(object as User, old as User | undefined, this.context.clock.now());
          for (const request of mapping(object, old, store, this.context.userNames)) {
            const urgent = leaving && request.kind === 'User' && request.key.name === object.metadata.name;
            this.context.enqueue(request.kind, request.key, { urgent });
          }
        }),
      );
    }
    // Systems first: their first listing fills the observed cache, so the Users that follow read
    // no remote state one by one (a system that fails its listing is retried with backoff meanwhile).
    for (const system of store.list('ConnectedSystem')) this.context.enqueue('ConnectedSystem', keyOf(system));
    this.#queues.ConnectedSystem.start();
    await this.#queues.ConnectedSystem.idle();
    await this.#enqueueAll({ listAgain: false });
    this.#queues.User.start();
    this.#queues.AccessBinding.start();
    this.#queues.IdentitySource.start();
    this.#queues.AccessReview.start();
  }

  /** Queues every object, and lists every system afresh, as a periodic resync would. */
  async requeueAll(): Promise<void> {
    await this.#enqueueAll({ listAgain: true });
  }

  /** Tens of thousands of keys: in slices, so the event loop keeps turning. */
  async #enqueueAll({ listAgain }: { listAgain: boolean }): Promise<void> {
    const { store } = this.context;
    for (const kind of Object.keys(this.#queues) as ControlledKind[]) {
      for (const object of store.list(kind)) {
        await yieldIfBusy();
        if (kind === 'ConnectedSystem' && listAgain) this.#schedule.force(keyString(keyOf(object)));
        this.context.enqueue(kind, keyOf(object));
      }
    }
  }

  /** Resolves once nothing is queued or running (scheduled wake-ups do not count). */
  async idle(): Promise<void> {
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const queues = Object.values(this.#queues);
    do {
      // Watch events are delivered asynchronously: let those already on their way arrive first.
      await tick();
      for (const queue of queues) await queue.idle();
      // A sync that outlived its reconcile queues its User again when it ends.
      await this.context.syncs.idle();
      // A status write that fails queues its User again.
      await this.context.statusWrites.idle();
      await tick();
      // A reconcile may start a sync and end within one turn (an embedded system): look again.
    } while (!queues.every((queue) => queue.isIdle()) || this.context.syncs.running > 0 || this.context.statusWrites.running > 0);
  }

  async stop(): Promise<void> {
    for (const unwatch of this.#unwatch) unwatch();
    await Promise.all(Object.values(this.#queues).map((queue) => queue.shutdown()));
    this.#abort.abort();
    // Aborted, the syncs still running end soon; their connections close after them (or after a
    // few seconds, for a request that ignores the abort: closing its connection ends it).
    await Promise.race([this.context.syncs.idle(), new Promise((resolve) => setTimeout(resolve, STOP_SYNCS_MS).unref())]);
    await Promise.race([this.context.statusWrites.idle(), new Promise((resolve) => setTimeout(resolve, STOP_SYNCS_MS).unref())]);
    await this.context.connections.closeAll();
    await this.context.store.stop();
  }
}

/** Leaving now (terminated, suspended, being deleted, past validUntil), and was not at the previous version. */
function startedLeaving(user: User, old: User | undefined, now: Date): boolean {
  const gone = (u: User) => u.metadata.deletionTimestamp !== undefined || isLeaving(u, now);
  return gone(user) && (old === undefined || !gone(old));
}
