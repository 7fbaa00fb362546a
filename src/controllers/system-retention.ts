// The system's side of retained accounts (see retained-accounts.ts): the entries its status holds,
// and the deletes whose retention ended (planned by the engine's planRetention), behind the deletion
// guard like every deprovision.
import type { ConnectedSystem, Snapshot } from '../api/index.ts';
import { retentionEntry, type RetainedAccount, type RetentionPlan } from '../engine/index.ts';
import { keyOf } from '../store/store.ts';
import { applyChanges, type ApplyContext } from './apply-change.ts';
import type { ControllerContext } from './context.ts';
import { isRecorded } from './retained-accounts.ts';

/** The entries the system's status holds, from the reconcile's copy and the store's freshest (one status write may not be in the cache yet). */
export function retainedEntries(ctx: Pick<ControllerContext, 'store'>, system: ConnectedSystem): RetainedAccount[] {
  const latest = ctx.store.get('ConnectedSystem', keyOf(system));
  const byName = new Map<string, RetainedAccount>();
  for (const entry of [...(system.status?.retainedAccounts ?? []), ...(latest?.status?.retainedAccounts ?? [])]) byName.set(entry.userName, entry);
  return [...byName.values()];
}

/** What the namespace's deleted Users ask the system to keep, read off their status, and the system's status does not record yet. */
export function newRetentionAsks(
  ctx: Pick<ControllerContext, 'store'>,
  system: ConnectedSystem,
  recorded: readonly RetainedAccount[],
  now: Date,
): RetainedAccount[] {
  // A loop, not flatMap: every system reconcile asks, and all but the deleted Users answer nothing.
  const asks: RetainedAccount[] = [];
  for (const user of ctx.store.list('User', keyOf(system).namespace)) {
    const entry = retentionEntry(user, system, now.getTime());
    if (entry && !isRecorded(recorded, entry)) asks.push(entry);
  }
  return asks;
}

/** Deletes the due accounts one at a time, behind the guard; each deleted joins plan.gone. Stops when the guard holds. */
export async function applyRetention(
  ctx: ApplyContext & Pick<ControllerContext, 'connections'>,
  system: ConnectedSystem,
  plan: RetentionPlan,
  snapshot: Snapshot,
  signal: AbortSignal,
): Promise<void> {
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
        snapshot,
      };
      const outcome = await applyChanges(ctx, request, signal);
      if (outcome.held) return;
      plan.gone.add(entry.userName);
    }
  });
}
