// Accounts kept for deleted Users until their retention ends (deprovision.policy disableThenDelete),
// as one system's pass sees them: which are kept (never orphans), which are due for deletion now,
// and which entries its status no longer needs. The record itself is controllers/retained-accounts.ts's.
import type { AccountChange, Capabilities, ConnectedSystem, ObservedAccount, User } from '../api/index.ts';
import { deleteAfterRetentionAt } from './deprovision.ts';
import { revokeAll } from './plan.ts';

/** One entry of status.retainedAccounts: whose account, and when it may be deleted. */
export type RetainedAccount = NonNullable<NonNullable<ConnectedSystem['status']>['retainedAccounts']>[number];

/**
 * The entry a deleted User asks the system to keep (deprovision.policy disableThenDelete), read off
 * the User's status: its account here is disabled, and is deleted once the retention from its
 * disabledAt ends. Undefined when it asks for none. The User and the system compute it alike, so the
 * User knows the system recorded it when its status shows this very entry.
 */
export function retentionEntry(user: User, system: ConnectedSystem, now: number): RetainedAccount | undefined {
  if (user.metadata.deletionTimestamp === undefined) return undefined;
  const account = user.status?.accounts?.find((a) => a.system === system.metadata.name);
  if (account?.state !== 'disabled') return undefined;
  const deleteAfter = deleteAfterRetentionAt(user, system, now);
  return deleteAfter === undefined ? undefined : { userName: user.spec.userName, user: user.metadata.name, deleteAfter: new Date(deleteAfter).toISOString() };
}

/** The earliest instant a retained account of the system is due for deletion. */
export function nextRetentionEnd(entries: readonly RetainedAccount[]): number | undefined {
  const ends = entries.map((e) => Date.parse(e.deleteAfter)).filter((ms) => Number.isFinite(ms));
  return ends.length ? Math.min(...ends) : undefined;
}

export interface RetentionPlan {
  /** userNames kept for a deleted User: not orphans. */
  kept: Set<string>;
  /** Entries to drop from status: the account is gone, or a live User declares the userName again. */
  gone: Set<string>;
  /** Accounts whose retention ended, with their changes (a delete; revokes where accounts are implicit). */
  due: Array<{ entry: RetainedAccount; changes: AccountChange[] }>;
}

export function planRetention(
  entries: readonly RetainedAccount[],
  accounts: readonly ObservedAccount[],
  users: readonly User[],
  capabilities: Capabilities,
  now: number,
): RetentionPlan {
  const listed = new Map(accounts.map((a) => [a.userName, a]));
  const declaredByLive = new Set(users.filter((u) => u.metadata.deletionTimestamp === undefined).map((u) => u.spec.userName));
  const plan: RetentionPlan = { kept: new Set(), gone: new Set(), due: [] };
  for (const entry of entries) {
    const account = listed.get(entry.userName);
    // A rehire: the new User's reconcile takes the account back. Or the account went by other means.
    if (declaredByLive.has(entry.userName) || !account) {
      plan.gone.add(entry.userName);
      continue;
    }
    plan.kept.add(entry.userName);
    if (Date.parse(entry.deleteAfter) <= now) {
      plan.due.push({ entry, changes: capabilities.implicitAccounts ? revokeAll(account, capabilities) : [{ op: 'delete', userName: entry.userName }] });
    }
  }
  return plan;
}
