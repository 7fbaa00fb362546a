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
import { isUnchanging, type ConnectedSystem, type User } from '../api/index.ts';
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
  const windowStart = now.getTime() - parseDuration(system.spec.resyncInterval);
  const distinct: DistinctNames = isDistinct(userNames) ? userNames : new Set(userNames);
  let base = distinct.size;
  // The User that holds the userName is the one whose account it is (a younger claimant gets none).
  for (const { createdMs, userName } of creations(users)) {
    if (createdMs <= windowStart) break;
    if (distinct.has(userName)) base--;
  }
  return base;
}

function isDistinct(names: Iterable<string> | DistinctNames): names is DistinctNames {
  return names instanceof Set || names instanceof Map;
}

/**
 * The holding Users' creation instants, newest first: the Users created within a window are a
 * prefix. Kept per unchanging list (the stores hand out one per namespace until a User changes): the
 * guard decides for every leaver, and parsing ten thousand instants each time is not free.
 */
function creations(users: readonly User[]): readonly { createdMs: number; userName: string }[] {
  const known = creationsOf.get(users);
  if (known) return known;
  const list = holdingUsers(users)
    .map((user) => ({ createdMs: Date.parse(user.metadata.creationTimestamp ?? ''), userName: user.spec.userName }))
    .filter(({ createdMs }) => Number.isFinite(createdMs))
    .sort((a, b) => b.createdMs - a.createdMs);
  if (isUnchanging(users)) creationsOf.set(users, list);
  return list;
}
const creationsOf = new WeakMap<readonly User[], readonly { createdMs: number; userName: string }[]>();
