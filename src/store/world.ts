// The declared objects one namespace's reconciles need, read from the store's cache.
import type { World } from '../api/index.ts';
import type { Store } from './store.ts';

export function readWorld(store: Store, namespace: string): World {
  return {
    bindings: store.list('AccessBinding', namespace),
    roles: store.list('AccessRole', namespace),
    systems: store.list('ConnectedSystem', namespace),
    reviews: store.list('AccessReview', namespace),
    users: store.list('User', namespace),
  };
}
