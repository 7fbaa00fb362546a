// Wires the store, one work queue per kind and the reconcilers together. Watch events become
// keys; only the Users a change can affect are re-queued.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { AccessBinding, AccessRole, KindName, User } from '../api/index.ts';
import { systemClock, type Clock } from '../clock/clock.ts';
import type { Metrics } from '../process/metrics.ts';
import { keyOf, keyString, type AnyResource, type ObjectKey, type Store } from '../store/store.ts';
import { WorkQueue } from '../queue/workqueue.ts';
import { rolesIncluding, usersOfBinding } from './affected-users.ts';
import { Connections } from './connections.ts';
import type { AppliedChanges, ControllerContext } from './context.ts';
import { DeletionGate } from './deletion-gate.ts';
import { ObservedCache } from './observed-cache.ts';
import { reconcileBinding } from './binding-controller.ts';
import { reconcileSystem } from './system-controller.ts';
import { reconcileUser } from './user-controller.ts';

export interface ManagerOptions {
  store: Store;
  logger: Logger;
  metrics?: Metrics;
  kubeconfig?: KubeConfig;
  /** Default: real time. Tests inject a TestClock; the work queues and every reconciler use it. */
  clock?: Clock;
  onApplied?: (applied: AppliedChanges) => void;
  userConcurrency?: number;
  timeoutMs?: number;
  /** How long a guarded system's burst of deprovisions must stop growing before any proceeds (DeletionGate). */
  deprovisionSettleMs?: number;
}

function parseKey(key: string): ObjectKey {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export class Manager {
  readonly context: ControllerContext;
  readonly #users: WorkQueue;
  readonly #systems: WorkQueue;
  readonly #bindings: WorkQueue;
  readonly #abort = new AbortController();
  readonly #unwatch: (() => void)[] = [];

  constructor(options: ManagerOptions) {
    const { store, logger, metrics } = options;
    const clock = options.clock ?? systemClock;
    this.context = {
      store,
      logger,
      metrics,
      clock,
      connections: new Connections({ store, logger, kubeconfig: options.kubeconfig, timeoutMs: options.timeoutMs }),
      observed: new ObservedCache(),
      gate: new DeletionGate({ settleMs: options.deprovisionSettleMs }),
      onApplied: options.onApplied,
      // The system's reconcile sets DeletionGuardTripped with the count and wakes the held Users;
      // only needed when its condition does not show this count yet.
      onGuardTripped: (system, count) => {
        if (!this.context.gate.isAnnounced(system, count)) this.#systems.add(system);
      },
    };
    const onError = (kind: string) => (key: string, error: unknown, retryInMs: number | undefined) =>
      logger.warn({ kind, key, err: error instanceof Error ? error.message : String(error), retryInMs }, 'reconcile failed');
    this.#users = new WorkQueue({
      name: 'user',
      concurrency: options.userConcurrency ?? 8,
      reconcile: (key) => reconcileUser(this.context, parseKey(key), this.#abort.signal),
      onError: onError('User'),
      metrics,
      clock,
    });
    this.#bindings = new WorkQueue({
      name: 'accessbinding',
      concurrency: 2,
      reconcile: (key) => reconcileBinding(this.context, parseKey(key)),
      onError: onError('AccessBinding'),
      metrics,
      clock,
    });
    this.#systems = new WorkQueue({
      name: 'connectedsystem',
      concurrency: 2,
      reconcile: (key) => reconcileSystem(this.context, parseKey(key), { wakeUsers: (ns) => this.#wakeNamespace(ns) }, this.#abort.signal),
      onError: onError('ConnectedSystem'),
      metrics,
      clock,
    });
  }

  async start(): Promise<void> {
    const { store } = this.context;
    await store.start();
    this.#watch('ConnectedSystem', (object) => this.#systems.add(keyString(keyOf(object))));
    this.#watch('User', (object) => {
      this.#users.add(keyString(keyOf(object)));
      // A User's labels decide which bindings select it: their subject counts may change.
      for (const binding of store.list('AccessBinding', keyOf(object).namespace)) this.#bindings.add(keyString(keyOf(binding)));
    });
    this.#watch('AccessBinding', (object, old) => {
      this.#bindings.add(keyString(keyOf(object)));
      this.#bindingChanged(object as AccessBinding, old as AccessBinding | undefined);
    });
    this.#watch('AccessRole', (object) => this.#roleChanged(object as AccessRole));
    this.requeueAll();
    this.#systems.start();
    this.#users.start();
    this.#bindings.start();
  }

  /** Queues every ConnectedSystem, User and AccessBinding, as a periodic resync would. */
  requeueAll(): void {
    for (const system of this.context.store.list('ConnectedSystem')) this.#systems.add(keyString(keyOf(system)));
    for (const user of this.context.store.list('User')) this.#users.add(keyString(keyOf(user)));
    for (const binding of this.context.store.list('AccessBinding')) this.#bindings.add(keyString(keyOf(binding)));
  }

  /** Resolves once nothing is queued or running (scheduled wake-ups do not count). */
  async idle(): Promise<void> {
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    do {
      // Watch events are delivered asynchronously: let those already on their way arrive first.
      await tick();
      await this.#systems.idle();
      await this.#users.idle();
      await this.#bindings.idle();
      await tick();
    } while (!this.#systems.isIdle() || !this.#users.isIdle() || !this.#bindings.isIdle());
  }

  async stop(): Promise<void> {
    for (const unwatch of this.#unwatch) unwatch();
    await Promise.all([this.#systems.shutdown(), this.#users.shutdown(), this.#bindings.shutdown()]);
    this.#abort.abort();
    await this.context.connections.closeAll();
    await this.context.store.stop();
  }

  #watch(kind: KindName, onChange: (object: AnyResource, old: AnyResource | undefined) => void): void {
    this.#unwatch.push(
      this.context.store.watch(kind, (event, object, old) => {
        // Our own status writes come back as updates: they change nothing we act on.
        if (event === 'update' && old && !meaningfulChange(old, object)) return;
        this.context.gate.reset();
        onChange(object, old);
      }),
    );
  }

  #wakeNamespace(namespace: string): void {
    for (const user of this.context.store.list('User', namespace)) this.#users.add(keyString(keyOf(user)));
  }

  #bindingChanged(binding: AccessBinding, old: AccessBinding | undefined): void {
    const users = this.context.store.list('User', keyOf(binding).namespace);
    const affected = new Set<User>([...usersOfBinding(binding, users), ...(old ? usersOfBinding(old, users) : [])]);
    for (const user of affected) this.#users.add(keyString(keyOf(user)));
  }

  #roleChanged(role: AccessRole): void {
    const { namespace } = keyOf(role);
    const store = this.context.store;
    const roles = rolesIncluding(role.metadata.name, store.list('AccessRole', namespace));
    for (const binding of store.list('AccessBinding', namespace)) {
      if (!roles.has(binding.spec.role)) continue;
      this.#bindings.add(keyString(keyOf(binding)));
      this.#bindingChanged(binding, undefined);
    }
  }
}

/** Spec, labels, annotations, finalizers or deletion changed: not just status. */
function meaningfulChange(old: AnyResource, next: AnyResource): boolean {
  const pick = (o: AnyResource) =>
    JSON.stringify([o.metadata.generation, o.spec, o.metadata.labels, o.metadata.annotations, o.metadata.finalizers, o.metadata.deletionTimestamp]);
  return pick(old) !== pick(next);
}
