// A ConnectedSystem deleted under deletionPolicy deprovision: every account it manages is disabled
// (or deleted under deprovision.policy delete) before its finalizer goes. Planned here, so that
// `rollcall plan` and the controller see the same changes, and the deletion guard counts them.
import type { AccountChange, Capabilities, ConnectedSystem, DesiredAccount, ObservedAccount } from '../api/index.ts';
import { takesAccess } from './guard.ts';
import { planAccount } from './plan.ts';

/** One managed account's changes when its system goes. */
export interface DeletionAccountPlan {
  userName: string;
  changes: AccountChange[];
  /** The changes take access away: the deletion guard counts the account. */
  deprovisions: boolean;
}

/** The system is being deleted and takes its accounts with it (deletionPolicy deprovision). */
export function deprovisionsOnDeletion(system: ConnectedSystem): boolean {
  return system.metadata.deletionTimestamp !== undefined && system.spec.deletionPolicy === 'deprovision';
}

/** What deleting the system does to each account of its listing: only the accounts that change. */
export function planSystemDeletion(system: ConnectedSystem, listing: readonly ObservedAccount[], capabilities: Capabilities): DeletionAccountPlan[] {
  // Retention needs the system to outlive it: with the system gone, disableThenDelete stops at disable.
  const state = system.spec.deprovision.policy === 'delete' ? 'absent' : 'disabled';
  return listing.flatMap((account) => {
    const desired: DesiredAccount = { system: system.metadata.name, userName: account.userName, state, attributes: {}, entitlements: [] };
    const changes = planAccount(desired, account, capabilities);
    return changes.length ? [{ userName: account.userName, changes, deprovisions: changes.some(takesAccess) }] : [];
  });
}
