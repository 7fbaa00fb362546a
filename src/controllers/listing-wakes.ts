// After a listing, which Users of the namespace have something to do in the system. Waking all of
// them made every listing of a 10,000-User system cost 10,000 reconciles that found nothing to do
// (about 3.5 s of CPU, and the garbage with it). A User is woken when the listing gives it work:
// its plan against the listed account has changes (drift: a group or attribute changed by hand, an
// account deleted), or its status disagrees with the listing, or its status says something is
// pending (a failure, a hold, a refusal, a conflict), or it is leaving or does not hold its userName.
// Everything else about a User wakes it through its own watches and wake-ups, not through listings.
import type { AccountStatus, Capabilities, ConnectedSystem, ObservedAccount, Snapshot, User } from '../api/index.ts';
import { holdingUsers, inDeclaredSpelling, planAccountFor } from '../engine/index.ts';
import { yieldIfBusy } from '../queue/yield.ts';

/** The Users of `snapshot` the listing of `system` gives something to do, planned in slices so the event loop keeps turning. */
export async function usersTheListingConcerns(
  system: ConnectedSystem,
  snapshot: Snapshot,
  listed: ReadonlyMap<string, ObservedAccount>,
  capabilities: Capabilities,
): Promise<User[]> {
  const holders = new Set(holdingUsers(snapshot.world.users));
  const concerned: User[] = [];
  for (const user of snapshot.world.users) {
    await yieldIfBusy();
    if (!holders.has(user) || concerns(user, snapshot, system, listed.get(user.spec.userName), capabilities)) concerned.push(user);
  }
  return concerned;
}

function concerns(user: User, { world, now }: Snapshot, system: ConnectedSystem, actual: ObservedAccount | undefined, capabilities: Capabilities): boolean {
  if (user.metadata.deletionTimestamp !== undefined) return true;
  const recorded = user.status?.accounts?.find((a) => a.system === system.metadata.name);
  if (recorded?.state === 'error' || recorded?.message !== undefined) return true;
  // No refusal: planned as if the system granted everything, a refused entitlement shows as a change
  // and wakes its User (whose own pass knows better), rather than hiding one the system would grant.
  const plan = planAccountFor(user, world, system, actual, capabilities, now);
  if (!plan) return recorded !== undefined && recorded.state !== 'absent';
  if (plan.changes.length > 0 || plan.conflict !== undefined) return true;
  return !recorded || statusDisagrees(recorded, actual, capabilities);
}

/**
 * The account's state or entitlements in the listing are not what the User's status recorded when
 * Rollcall last synced it: someone else changed it (the system's `drifted` count), or the status is behind.
 */
export function statusDisagrees(recorded: AccountStatus, actual: ObservedAccount | undefined, capabilities: Capabilities): boolean {
  if ((actual?.state ?? 'absent') !== recorded.state) return true;
  // The status shows held entitlements in their declared spelling (inDeclaredSpelling).
  return (
    actual !== undefined &&
    inDeclaredSpelling(actual.entitlements, recorded.entitlements ?? [], capabilities).join('\n') !== (recorded.entitlements ?? []).join('\n')
  );
}
