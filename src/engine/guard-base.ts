// The base of the deletion guard's percentage (maxPercent, and the default's 20 %): how many
// accounts the system manages that a tenant could not have minted just now to inflate the limit.
//
// Whoever may write Users in a namespace can create hundreds of them in a minute; counted at once,
// 500 filler Users would raise "20 % of managed" to 100 and let a mass revoke of the real people
// through. An account counts only once its User has existed for a whole guard window (the system's
// resyncInterval, the same window the guard counts deprovisions over): fillers made within the
// window add nothing, and a burst of them has to wait a window in plain sight before it counts.
// creationTimestamp is set by the API server, not by the tenant. Accounts no User declares (orphans,
// accounts of Users already gone) were not minted through a User just now and count as before.
import type { ConnectedSystem, User } from '../api/index.ts';
import { parseDuration } from './duration.ts';
import { holdingUsers } from './username-claims.ts';

/** userNames already one per account: a Set, or a Map by userName (the listing cache), counted without copying. */
export interface DistinctNames {
  readonly size: number;
  has(userName: string): boolean;
}

/**
 * The accounts among `userNames` (the managed accounts, one per userName) that the percentage
 * counts: all but those declared by a User created within the guard's window before `now`.
 */
export function guardBase(system: ConnectedSystem, userNames: Iterable<string> | DistinctNames, users: readonly User[], now: Date): number {
  const windowStart = guardWindowStart(system, now);
  const distinct: DistinctNames = isDistinct(userNames) ? userNames : new Set(userNames);
  let base = distinct.size;
  // The User that holds the userName is the one whose account it is (a younger claimant gets none).
  for (const user of holdingUsers(users)) {
    if (createdAt(user) > windowStart && distinct.has(user.spec.userName)) base--;
  }
  return base;
}

/** Users created after this instant (epoch ms) are within the guard's window: their accounts are not in the base yet. */
export function guardWindowStart(system: ConnectedSystem, now: Date): number {
  return now.getTime() - parseDuration(system.spec.resyncInterval);
}

function isDistinct(names: Iterable<string> | DistinctNames): names is DistinctNames {
  return names instanceof Set || names instanceof Map;
}

/**
 * A User's creation instant (NaN when it has none), kept per object: the stores hand out one frozen
 * object per version, and a full pass of the guard asks for every User, so ten thousand timestamps
 * are parsed once, not per pass.
 */
export function createdAt(user: User): number {
  let ms = created.get(user);
  if (ms === undefined) {
    ms = Date.parse(user.metadata.creationTimestamp ?? '');
    created.set(user, ms);
  }
  return ms;
}
const created = new WeakMap<User, number>();
