// The declared objects one User's reconcile needs, read from the store's cache.
import type { AccessBinding, AccessRole, ConnectedSystem, User } from '../api/index.ts';
import { userEntitled, userNotYetValid } from '../engine/index.ts';
import type { Store } from '../store/store.ts';

export interface World {
  bindings: AccessBinding[];
  roles: AccessRole[];
  systems: ConnectedSystem[];
}

export function readWorld(store: Store, namespace: string): World {
  return {
    bindings: store.list('AccessBinding', namespace),
    roles: store.list('AccessRole', namespace),
    systems: store.list('ConnectedSystem', namespace),
  };
}

/**
 * A User is leaving when suspended, terminated, being deleted or past its validUntil: from then
 * on the deprovision clock (status.deprovisionStartedAt) runs. A joiner before validFrom is not leaving.
 */
export function isLeaving(user: User, now: Date): boolean {
  return !userEntitled(user, now.getTime()) && !userNotYetValid(user, now.getTime());
}

/**
 * The User as the engine should see it: a leaver's deprovision clock starts now if it has not
 * started yet (disableThenDelete counts its retention from it), and stops if the User returns.
 */
export function withDeprovisionClock(user: User, now: Date): User {
  const deprovisionStartedAt = isLeaving(user, now) ? (user.status?.deprovisionStartedAt ?? now.toISOString()) : undefined;
  return { ...user, status: { ...user.status, deprovisionStartedAt } };
}
