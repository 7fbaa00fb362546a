// The finalizer guarantee, as kube-rs gives it: the finalizer is on the object before anything is
// applied, so once apply has started the object cannot go before cleanup succeeds; cleanup runs
// only for an object being deleted, must tolerate apply never having run, and the finalizer is
// released only when cleanup says it is done. Every step is idempotent, so a reconcile may stop
// anywhere and the next one carries on.
import { FINALIZER, type KindName } from '../api/index.ts';
import type { ResourceByKind, Store } from '../store/store.ts';
import { keyOf } from '../store/store.ts';
import type { Outcome } from './reconciler.ts';

export interface FinalizerHandlers<T> {
  apply(object: T): Promise<Outcome>;
  /** `done: false` keeps the finalizer (status should say why); throw to retry with backoff. */
  cleanup(object: T): Promise<{ done: boolean; outcome?: Outcome }>;
}

export async function withFinalizer<K extends KindName>(
  store: Store,
  kind: K,
  object: ResourceByKind[K],
  handlers: FinalizerHandlers<ResourceByKind[K]>,
): Promise<Outcome> {
  const key = keyOf(object);
  const held = object.metadata.finalizers?.includes(FINALIZER) ?? false;
  if (object.metadata.deletionTimestamp) {
    // Without our finalizer nothing of ours was applied, or cleanup already finished.
    if (!held) return {};
    const { done, outcome } = await handlers.cleanup(object);
    if (!done) return outcome ?? {};
    await store.setFinalizer(kind, key, FINALIZER, false);
    return {};
  }
  const current = held ? object : ((await store.setFinalizer(kind, key, FINALIZER, true)) ?? object);
  return handlers.apply(current);
}
