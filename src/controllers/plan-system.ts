// The whole plan for one system: what every declared User needs there, plus the orphan policy
// and the deletion guard. Pure; `rollcall plan` and audits print it.
import type { AccountChange, Capabilities, ConnectedSystem, ObservedAccount, User } from '../api/index.ts';
import { approvedDeprovisionCount, checkDeletionGuard, deprovisionCount, desiredAccounts, planChanges, planOrphans } from '../engine/index.ts';
import { withDeprovisionClock, type World } from './world.ts';

export interface SystemPlan {
  system: ConnectedSystem;
  changes: AccountChange[];
  orphans: ObservedAccount[];
  guard: { tripped: false } | { tripped: true; message: string };
}

export function planSystem(system: ConnectedSystem, users: User[], world: World, observed: ObservedAccount[], capabilities: Capabilities, now: Date): SystemPlan {
  const desired = users.flatMap((user) => {
    return desiredAccounts(withDeprovisionClock(user, now), world.bindings, world.roles, world.systems, now).filter((d) => d.system === system.metadata.name);
  });
  const declaredHere = new Set(desired.map((d) => d.userName));
  const declaredAnywhere = new Set(users.map((u) => u.spec.userName));
  const changes = planChanges(
    desired,
    observed.filter((o) => declaredHere.has(o.userName)),
    capabilities,
  );
  const orphanPlan = planOrphans(observed, declaredAnywhere, system.spec.orphans, capabilities);
  const all = [...changes, ...orphanPlan.changes];
  const guard = checkDeletionGuard({
    count: deprovisionCount(all),
    managed: observed.length,
    guard: system.spec.deletionGuard,
    approvedCount: approvedDeprovisionCount(system.metadata.annotations),
  });
  return { system, changes: all, orphans: orphanPlan.orphans, guard: guard.tripped ? { tripped: true, message: guard.message } : { tripped: false } };
}
