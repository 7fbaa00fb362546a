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

/**
 * The accounts among `userNames` (the managed accounts, one per userName) that the percentage
 * counts: all but those declared by a User created within the guard's window before `now`.
 */
export function guardBase(system: ConnectedSystem, userNames: Iterable<string>, users: readonly User[], now: Date): number {
  const windowStart = now.getTime() - parseDuration(system.spec.resyncInterval);
  const recent = new Set<string>();
  // The User that holds the userName is the one whose account it is (a younger claimant gets none).
  for (const user of holdingUsers(users)) {
    const created = user.metadata.creationTimestamp === undefined ? undefined : Date.parse(user.metadata.creationTimestamp);
    if (created !== undefined && created > windowStart) recent.add(user.spec.userName);
  }
  let base = 0;
  for (const userName of new Set(userNames)) if (!recent.has(userName)) base++;
  return base;
}
