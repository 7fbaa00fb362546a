// The declared objects one namespace's reconciles need, read from the store's cache.
import type { Snapshot, World } from '../api/index.ts';
import type { Clock } from '../clock/clock.ts';
import type { Store } from './store.ts';

export function readWorld(store: Store, namespace: string): Required<World> {
  return {
    bindings: store.list('AccessBinding', namespace),
    roles: store.list('AccessRole', namespace),
    systems: store.list('ConnectedSystem', namespace),
    reviews: store.list('AccessReview', namespace),
    users: store.list('User', namespace),
  };
}

/** The namespace's objects and the instant, read once for a reconcile (api Snapshot). */
export function readSnapshot(store: Store, namespace: string, clock: Clock): Snapshot {
  return { world: readWorld(store, namespace), now: clock.now() };
}
