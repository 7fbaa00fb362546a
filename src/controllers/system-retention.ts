// The system's side of retained accounts (see retained-accounts.ts): which of its accounts are kept
// for a deleted User (never orphans), which to delete now that their retention ended, which entries
// to drop, and the deletes themselves, behind the deletion guard like every deprovision.
import type { AccountChange, Capabilities, ConnectedSystem, ObservedAccount, User } from '../api/index.ts';
import { revokeAll } from '../engine/plan.ts';
import { keyOf } from '../store/store.ts';
import { applyChanges } from './apply-change.ts';
import type { ControllerContext } from './context.ts';
import type { RetainedAccount } from './retained-accounts.ts';

/** The entries the system's status holds, from the reconcile's copy and the store's freshest (one status write may not be in the cache yet). */
export function retainedEntries(ctx: ControllerContext, system: ConnectedSystem): RetainedAccount[] {
  const latest = ctx.store.get('ConnectedSystem', keyOf(system));
  const byName = new Map<string, RetainedAccount>();
  for (const entry of [...(system.status?.retainedAccounts ?? []), ...(latest?.status?.retainedAccounts ?? [])]) byName.set(entry.userName, entry);
  return [...byName.values()];
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

/** Deletes the due accounts one at a time, behind the guard; each deleted joins plan.gone. Stops when the guard holds. */
export async function applyRetention(ctx: ControllerContext, system: ConnectedSystem, plan: RetentionPlan, signal: AbortSignal): Promise<void> {
  if (plan.due.length === 0) return;
  const pass = plan.due.map((d) => d.entry.userName);
  await ctx.connections.use(system, async (connector) => {
    for (const { entry, changes } of plan.due) {
      const request = {
        system,
        connector,
        userName: entry.userName,
        changes,
        deprovisions: true,
        pass,
        origin: { kind: 'retention' as const, user: entry.user },
        applied: [],
      };
      const outcome = await applyChanges(ctx, request, signal);
      if (outcome.held) return;
      plan.gone.add(entry.userName);
    }
  });
}
