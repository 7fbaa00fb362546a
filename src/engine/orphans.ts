// Accounts in a system's managed scope that no User declares, and what the orphan policy does to them.
import type { AccountChange, Capabilities, ConnectedSystem, ObservedAccount, User } from '../api/index.ts';
import { revokeAll } from './plan.ts';

export type OrphanPolicy = 'report' | 'disable' | 'delete' | 'ignore';

export interface OrphanPlan {
  /** Every undeclared account, whatever the policy: it is a fact for status and audit. */
  orphans: ObservedAccount[];
  /** Empty for report and ignore. */
  changes: AccountChange[];
}

function disableOrphan(orphan: ObservedAccount, capabilities: Capabilities): AccountChange[] {
  if (capabilities.implicitAccounts || !capabilities.disable) return revokeAll(orphan, capabilities);
  return orphan.state === 'disabled' ? [] : [{ op: 'disable', userName: orphan.userName }];
}

function deleteOrphan(orphan: ObservedAccount, capabilities: Capabilities): AccountChange[] {
  if (capabilities.implicitAccounts) return revokeAll(orphan, capabilities);
  return [{ op: 'delete', userName: orphan.userName }];
}

/** `declared`: the userNames that some User of the namespace declares for this system. */
export function planOrphans(observed: readonly ObservedAccount[], declared: Set<string>, policy: OrphanPolicy, capabilities: Capabilities): OrphanPlan {
  const orphans = observed.filter((account) => !declared.has(account.userName));
  const act = policy === 'disable' ? disableOrphan : policy === 'delete' ? deleteOrphan : undefined;
  const changes = act === undefined ? [] : orphans.flatMap((orphan) => act(orphan, capabilities));
  return { orphans, changes };
}

/**
 * The orphans of one system's pass, as plan and run both find them: accounts in its listing that no
 * User of the namespace declares and no deleted User retains (`retained`), under spec.orphans.
 */
export function passOrphans(
  system: ConnectedSystem,
  listing: readonly ObservedAccount[],
  users: readonly User[],
  retained: Iterable<string>,
  capabilities: Capabilities,
): OrphanPlan {
  const declared = new Set([...users.map((user) => user.spec.userName), ...retained]);
  return planOrphans(listing, declared, system.spec.orphans, capabilities);
}
