// The ConnectedSystem reconciler: proves the connection (condition Connected), lists the managed
// accounts once per resyncInterval (so drift and orphans are found without a read per user),
// applies the orphan policy behind the deletion guard, and wakes the system's Users.
import { errorMessage, type ConnectedSystem, type ObservedAccount, type User } from '../api/index.ts';
import { APPROVE_DEPROVISION_ANNOTATION, deprovisionCount, parseDuration, planOrphans } from '../engine/index.ts';
import { setCondition, statusEqual } from '../api/conditions.ts';
import { keyOf, keyString, type ObjectKey } from '../store/store.ts';
import type { ControllerContext } from './context.ts';
import { describeChange, eventReason } from './describe.ts';
import { FINALIZER } from './user-controller.ts';

export interface SystemReconcileOptions {
  /** Called with each User of the system's namespace after a listing, so drift gets corrected. */
  wakeUsers: (namespace: string) => void;
}

export async function reconcileSystem(ctx: ControllerContext, key: ObjectKey, options: SystemReconcileOptions, signal: AbortSignal): Promise<{ wakeAt?: Date }> {
  const system = ctx.store.get('ConnectedSystem', key);
  const name = keyString(key);
  if (!system) {
    ctx.observed.forget(name);
    await ctx.connections.release(name);
    return {};
  }
  if (system.metadata.deletionTimestamp) {
    // Accounts stay as they are: removing a system from Rollcall is not a reason to deprovision.
    ctx.observed.forget(name);
    await ctx.connections.release(name);
    await ctx.store.setFinalizer('ConnectedSystem', key, FINALIZER, false);
    return {};
  }
  if (!system.metadata.finalizers?.includes(FINALIZER)) await ctx.store.setFinalizer('ConnectedSystem', key, FINALIZER, true);
  const now = ctx.clock.now();
  const next = new Date(now.getTime() + parseDuration(system.spec.resyncInterval));
  if (system.spec.suspend) {
    await writeStatus(ctx, system, { type: 'Ready', status: 'False', reason: 'Suspended', message: 'spec.suspend is true: no changes are made' }, {});
    return {};
  }

  let listing;
  const listingStarted = ctx.observed.beginListing();
  try {
    listing = await ctx.connections.use(system, async (connector) => {
      await connector.check(signal);
      const accounts = [];
      for await (const account of connector.listAccounts(signal)) accounts.push(account);
      return { accounts, capabilities: connector.capabilities };
    });
  } catch (error) {
    const message = errorMessage(error);
    ctx.observed.forget(name);
    await writeStatus(ctx, system, { type: 'Ready', status: 'False', reason: 'Unreachable', message }, { connected: { status: 'False', reason: 'ConnectionFailed', message } });
    throw error;
  }
  ctx.observed.replace(name, listing.accounts, listingStarted);
  const users = ctx.store.list('User', key.namespace);
  const declared = new Set(users.map((u) => u.spec.userName));
  const { drifted, failing } = compareWithStatus(system.metadata.name, users, listing.accounts);
  const { orphans, changes } = planOrphans(listing.accounts, declared, system.spec.orphans, listing.capabilities);
  for (const orphan of orphans) {
    if (system.spec.orphans !== 'ignore') ctx.logger.info({ system: name, account: orphan.userName }, 'orphan account found');
  }

  ctx.gate.reset(system);
  const { verdict, withinLimit } = ctx.gate.evaluate(ctx, system, deprovisionCount(changes));
  const guard: Guard = verdict.tripped ? { tripped: true, message: verdict.message } : { tripped: false };
  // An approval releases one pass: once that pass is within the limit again, it is spent.
  if (withinLimit && system.metadata.annotations?.[APPROVE_DEPROVISION_ANNOTATION] !== undefined) {
    await ctx.store.setAnnotations('ConnectedSystem', key, { [APPROVE_DEPROVISION_ANNOTATION]: null });
  }
  if (!guard.tripped && changes.length) {
    await ctx.connections.use(system, async (connector) => {
      for (const change of changes) {
        await connector.apply(change, signal);
        await ctx.store.recordEvent('ConnectedSystem', system, 'Normal', eventReason(change), `orphan ${change.op === 'create' ? change.account.userName : change.userName}: ${describeChange(change)}`);
      }
    });
  }
  if (ctx.gate.announce(name, verdict) && guard.tripped) {
    ctx.metrics?.deletionGuardTripped.inc({ system: name });
    await ctx.store.recordEvent('ConnectedSystem', system, 'Warning', 'GuardTripped', guard.message);
  }
  // Announce only orphans the previous listing did not have.
  const newOrphans = ctx.observed.updateOrphans(name, orphans.map((o) => o.userName));
  if (newOrphans.length && system.spec.orphans !== 'ignore') {
    await ctx.store.recordEvent('ConnectedSystem', system, 'Warning', 'OrphanFound', `${newOrphans.length} managed account(s) that no User declares: ${newOrphans.slice(0, 10).join(', ')}`);
  }
  ctx.metrics?.orphans.set({ system: name }, orphans.length);
  for (const state of ['present', 'disabled'] as const) {
    ctx.metrics?.accounts.set({ system: name, state }, listing.accounts.filter((a) => a.state === state).length);
  }

  await writeStatus(
    ctx,
    system,
    { type: 'Ready', status: 'True', reason: 'Synced', message: `${listing.accounts.length} managed account(s)` },
    {
      connected: { status: 'True', reason: 'Connected', message: 'connection and credentials work' },
      guard: guard.tripped
        ? { status: 'True', reason: 'TooManyDeprovisions', message: guard.message }
        : { status: 'False', reason: 'WithinLimit', message: 'no pending pass exceeds spec.deletionGuard' },
      managed: listing.accounts.length,
      orphaned: orphans.length,
      drifted,
      failing,
    },
  );
  options.wakeUsers(key.namespace);
  return { wakeAt: next };
}

type Guard = { tripped: false } | { tripped: true; message: string };

interface Extra {
  connected?: { status: 'True' | 'False'; reason: string; message: string };
  guard?: { status: 'True' | 'False'; reason: string; message: string };
  managed?: number;
  orphaned?: number;
  drifted?: number;
  failing?: number;
}

/**
 * Drifted: accounts whose state or entitlements in the system no longer match what the User's
 * status recorded when Rollcall last synced them, i.e. changed by someone else. The Users are
 * re-queued right after, which reverts them. Failing: accounts whose last sync failed.
 */
function compareWithStatus(system: string, users: User[], observed: ObservedAccount[]): { drifted: number; failing: number } {
  const byName = new Map(observed.map((a) => [a.userName, a]));
  let drifted = 0;
  let failing = 0;
  for (const user of users) {
    const recorded = user.status?.accounts?.find((a) => a.system === system);
    if (!recorded) continue;
    if (recorded.state === 'error') {
      failing++;
      continue;
    }
    const actual = byName.get(user.spec.userName);
    const actualState = actual?.state ?? 'absent';
    const sameEntitlements = (actual?.entitlements ?? []).join('\n') === (recorded.entitlements ?? []).join('\n');
    if (actualState !== recorded.state || (actual && !sameEntitlements)) drifted++;
  }
  return { drifted, failing };
}

async function writeStatus(
  ctx: ControllerContext,
  system: ConnectedSystem,
  ready: { type: string; status: 'True' | 'False'; reason: string; message: string },
  extra: Extra,
): Promise<void> {
  const now = ctx.clock.now();
  const generation = system.metadata.generation;
  let conditions = setCondition(system.status?.conditions, ready, generation, now);
  if (extra.connected) conditions = setCondition(conditions, { type: 'Connected', ...extra.connected }, generation, now);
  if (extra.guard) conditions = setCondition(conditions, { type: 'DeletionGuardTripped', ...extra.guard }, generation, now);
  const status = { ...system.status, observedGeneration: generation, conditions };
  if (extra.managed !== undefined) status.managed = extra.managed;
  if (extra.orphaned !== undefined) status.orphaned = extra.orphaned;
  if (extra.drifted !== undefined) status.drifted = extra.drifted;
  if (extra.failing !== undefined) status.failing = extra.failing;
  if (!statusEqual(system.status ?? {}, status)) await ctx.store.updateStatus('ConnectedSystem', keyOf(system), status);
}
