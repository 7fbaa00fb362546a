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
  return baseWithout(system, distinctNames(userNames), recentClaims(system, holdingUsers(users), now), now);
}

/** The names as DistinctNames: a Set or Map as it is, anything else collected into a Set. */
export function distinctNames(userNames: Iterable<string> | DistinctNames): DistinctNames {
  return isDistinct(userNames) ? userNames : new Set(userNames);
}

/** A holder's userName and when its User was created: what the base needs to know of it. */
export interface Claim {
  userName: string;
  createdMs: number;
}

/**
 * The claims of the holders created within the guard's window before `now`. The window only moves
 * forward, so a list taken earlier stays a superset for later decisions (baseWithout re-checks each
 * against its own window): the deletion guard keeps one and adds only the holders that are new.
 */
export function recentClaims(system: ConnectedSystem, holders: readonly User[], now: Date): Claim[] {
  const windowStart = windowStartOf(system, now);
  const recent: Claim[] = [];
  for (const user of holders) {
    const createdMs = createdAt(user);
    if (createdMs > windowStart) recent.push({ userName: user.spec.userName, createdMs });
  }
  return recent;
}

/** The base: the accounts in `distinct` but those whose holder (in `recent`) was created within the window. */
export function baseWithout(system: ConnectedSystem, distinct: DistinctNames, recent: Iterable<Claim>, now: Date): number {
  const windowStart = windowStartOf(system, now);
  let base = distinct.size;
  // The User that holds the userName is the one whose account it is (a younger claimant gets none).
  for (const claim of recent) if (claim.createdMs > windowStart && distinct.has(claim.userName)) base--;
  return base;
}

function windowStartOf(system: ConnectedSystem, now: Date): number {
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
