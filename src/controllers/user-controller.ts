// The User reconciler: the unit of work. Reads the world, drives every system's account to the
// desired state, writes status only when it changed, and holds the finalizer until a deleted
// User is deprovisioned everywhere.
import {
  RetryableError,
  errorMessage,
  failureScope,
  type AccountStatus,
  type Condition,
  type ConnectedSystem,
  type User,
  type UserStatus,
} from '../api/index.ts';
import {
  accessWindow,
  retentionEntry,
  desiredAccounts,
  effectiveState,
  heldSystems,
  isLeaving,
  userNameTakenBy,
  withDeprovisionClock,
} from '../engine/index.ts';
import { setCondition, statusEqual } from '../api/conditions.ts';
import { keyOf, keyString, type ObjectKey } from '../store/store.ts';
import type { ControllerContext } from './context.ts';
import { withFinalizer } from './finalizer.ts';
import { requeueAtEarliest, type Outcome, type Reconciler } from './reconciler.ts';
import { isRecorded } from './retained-accounts.ts';
import { errorStatus, refusalText, syncAccount, type AccountSyncResult } from './sync-account.ts';
import { readSnapshot } from '../store/world.ts';
import { carryDeliveries, expireDeliveries, withDeliveriesKept } from './initial-password.ts';

export function userReconciler(ctx: ControllerContext): Reconciler {
  return async (key, signal) => {
    // The last pass's status write first (its failure fails this reconcile, with the queue's backoff).
    await ctx.statusWrites.settled(keyString(key));
    const user = ctx.store.get('User', key);
    if (!user) {
      ctx.syncs.forget(keyString(key));
      return {};
    }
    // Apply and cleanup are the same convergence: a deleted User's desired accounts are its deprovisioned ones.
    return withFinalizer(ctx.store, 'User', user, {
      apply: async (current) => (await converge(ctx, key, current, signal)).outcome,
      cleanup: async (current) => converge(ctx, key, current, signal),
    });
  };
}

/** Drives every system; `done` once nothing failed, nothing is held and nothing waits. */
async function converge(ctx: ControllerContext, key: ObjectKey, user: User, signal: AbortSignal): Promise<{ done: boolean; outcome: Outcome }> {
  // One read of the namespace and the clock for the whole pass: its syncs, guard and audit lines see the same.
  const snapshot = readSnapshot(ctx.store, key.namespace, ctx.clock);
  const { world, now } = snapshot;
  const holder = userNameTakenBy(user, ctx.userNames.usersNaming(ctx.store, key.namespace, user.spec.userName));
  if (holder) {
    // Refused everywhere: the older User holds this userName, and its account is not ours to share.
    await refuseConflict(ctx, key, user, holder, now);
    return { done: true, outcome: {} };
  }
  // The deprovision clock starts the first time the User is seen leaving, and stops if it returns.
  const leaving = isLeaving(user, now);
  const withClock = withDeprovisionClock(user, now);
  const deprovisionStartedAt = withClock.status?.deprovisionStartedAt;

  const desired = desiredAccounts(withClock, world.bindings, world.roles, world.systems, now, world.reviews, world.users);
  const previous = new Map((user.status?.accounts ?? []).map((a) => [a.system, a]));
  const systemsByName = new Map(world.systems.map((s) => [s.metadata.name, s]));

  // Systems run side by side: one slow or broken system never delays the others. A sync still
  // running after the patience goes on by itself (AccountSyncs): its system shows as in progress.
  const userKey = keyString(key);
  const syncs = desired.map((account) => {
    const system = systemsByName.get(account.system)!;
    const wants = JSON.stringify([user.metadata.generation, user.metadata.deletionTimestamp, system.metadata.generation, account]);
    const start = () =>
      syncAccount(ctx, () => readSnapshot(ctx.store, key.namespace, ctx.clock), withClock, system, account, previous.get(account.system), signal);
    const thrown = (error: unknown) => unexpectedFailure(account.system, previous.get(account.system), error);
    return { name: account.system, system: keyString(keyOf(system)), sync: ctx.syncs.sync(userKey, keyString(keyOf(system)), wants, start, thrown) };
  });
  const settled = await ctx.syncs.within(userKey, syncs);
  const results = settled.filter((r) => r !== undefined);
  const inProgress = syncs
    .filter((_, i) => settled[i] === undefined)
    .map((s) => `${s.name}: in progress (the system answers slowly); this User is reconciled again when it is done`);

  const made = new Map(results.flatMap((r) => (r.delivery ? [[r.status.system, r.delivery] as const] : [])));
  // Deliveries recorded by an earlier pass, also from the freshest copy (the cache may not have seen that pass's status yet).
  const recorded = new Map(
    [...(ctx.store.get('User', key)?.status?.accounts ?? []), ...previous.values()].filter((a) => a.initialPassword).map((a) => [a.system, a]),
  );
  const merged = carryDeliveries(
    mergeAccounts(
      previous,
      results.map((r) => r.status),
      world.systems.map((s) => s.metadata.name),
    ),
    recorded,
    made,
  );
  // First-password Secrets whose ttl is up (or whose account no longer opens) go now; the next one wakes this User.
  const { accounts, nextAt: nextDeliveryExpiry, deleted } = await expireDeliveries(ctx, user, merged, now);
  const failed = results.filter((r) => r.error !== undefined).map((r) => `${r.status.system}: ${r.status.message}`);
  const held = results.filter((r) => r.held).map((r) => `${r.status.system}: ${r.held}`);
  const conflicts = results.flatMap((r) => (r.conflict ? [r.conflict] : []));
  // A suspended system gets no changes, so a deleted User that holds an account there waits for it:
  // releasing the finalizer now would leave the account behind with nobody to deprovision it.
  const suspendedHolders =
    user.metadata.deletionTimestamp === undefined ? [] : world.systems.filter((s) => s.spec.suspend && heldSystems(user).has(s.metadata.name));
  const waiting = suspendedHolders.map((s) => `${s.metadata.name}: spec.suspend is true; the account is deprovisioned once the system resumes`);
  const window = accessWindow(withClock, world.bindings, world.roles, world.systems, now, world.reviews, world.users);
  // Ready names a system unavailable only if one is; failures that are all this User's own say so.
  const onlyOwnFailures = results.every((r) => r.error === undefined || failureScope(r.error) === 'account');
  // A deleted User under disableThenDelete does not wait for the retention: once its accounts are
  // disabled, each system records the account in its status (retainedAccounts) and deletes it when
  // the retention ends; the finalizer goes as soon as every system shows the record.
  const retention =
    failed.length || held.length || waiting.length || inProgress.length
      ? { unrecorded: [], until: undefined }
      : askRetention(ctx, withClock, desired, results, systemsByName, now);
  const unrecorded = retention.unrecorded;
  const status = buildStatus(user, now, {
    accounts,
    total: desired.length + waiting.length,
    pending: { failed: [...failed, ...conflicts], held, waiting, inProgress },
    deprovisionStartedAt,
    accessEndsAt: window.accessEndsAt,
    leaving,
    onlyOwnFailures,
  });
  if (retention.until) status.retainedUntil = retention.until;
  // A system in progress may still refuse what it refused before: the condition waits for its result.
  if (inProgress.length === 0 || results.some((r) => r.refused.length)) status.conditions = refusedCondition(user, results, status.conditions, now);
  if (conflicts.length) {
    // An account with this userName that another owner holds: named per system, for a person to settle.
    status.conditions = setCondition(
      status.conditions,
      { type: 'Conflict', status: 'True', reason: 'AccountNotManaged', message: conflicts.join('; ') },
      user.metadata.generation,
      now,
    );
    status.conditions = setCondition(
      status.conditions,
      { type: 'Ready', status: 'False', reason: 'Conflict', message: conflicts.join('; ') },
      user.metadata.generation,
      now,
    );
  } else if (user.status?.conditions?.some((c) => c.type === 'Conflict' && c.status === 'True')) {
    status.conditions = setCondition(
      status.conditions,
      {
        type: 'Conflict',
        status: 'False',
        reason: 'UserNameHeld',
        message: `this User holds userName ${user.spec.userName}, and no system has an account of that name it may not manage`,
      },
      user.metadata.generation,
      now,
    );
  }
  // What another pass recorded that this one's cache had not seen (an adoption, a first password's
  // Secret) is carried over from the freshest status: the cache's, or the server's after a conflict.
  let carried = false;
  const keep = (latest: UserStatus | undefined) => {
    const kept = withDeliveriesKept(withAdoptionsKept(status, latest), latest, deleted);
    carried ||= kept.carried;
    return kept.status;
  };
  if (!statusEqual(user.status ?? {}, keep(ctx.store.get('User', key)?.status))) {
    const write = () => ctx.store.updateStatus('User', key, keep);
    // A deleted User's finalizer goes once this pass is done, and the systems asked to keep an
    // account read the ask off this status: those wait for the write. Any other pass hands it over.
    if (user.metadata.deletionTimestamp !== undefined || unrecorded.length > 0) await write();
    else {
      const carriedBefore = carried;
      // A delivery found only on the server's copy (after a conflict) is due on a pass after this one.
      await ctx.statusWrites.start(keyString(key), async () => {
        await write();
        if (carried && !carriedBefore) ctx.enqueue('User', key);
      });
    }
  }
  // The systems asked to keep a disabled account read the ask off the status just written.
  for (const name of unrecorded) ctx.enqueue('ConnectedSystem', { namespace: key.namespace, name });
  const done = failed.length === 0 && held.length === 0 && waiting.length === 0 && inProgress.length === 0 && unrecorded.length === 0;
  if (leaving && done && deprovisionStartedAt) observeDeprovisionLatency(ctx, user, deprovisionStartedAt, now);
  // A system that may recover is retried with backoff; a permanent failure waits for a change of input.
  const retryable = results.map((r) => r.error).filter((e) => e instanceof RetryableError);
  if (retryable.length) {
    const retryAfterMs = Math.min(...retryable.map((e) => e.retryAfterMs ?? 0));
    throw new RetryableError(failed.join('; '), { retryAfterMs: retryAfterMs || undefined });
  }
  // Asked systems write their status within a reconcile: look again shortly (their status change may not wake this User).
  const askedAgainAt = unrecorded.length ? new Date(now.getTime() + RETENTION_RECORD_RETRY_MS) : undefined;
  // A delivery carried over from another pass's status: only the next pass knows when it is due.
  const carriedAt = carried ? now : undefined;
  return { done, outcome: requeueAtEarliest([window.nextWakeAt, askedAgainAt, nextDeliveryExpiry, carriedAt]) };
}

const RETENTION_RECORD_RETRY_MS = 1_000;

/**
 * A deleted User's disabled accounts under disableThenDelete, each to be deleted at the end of its
 * retention: its status asks their systems to keep them (retentionEntry). Returns the systems whose
 * status does not show the record yet (the finalizer stays until it does), and the latest retention end.
 */
function askRetention(
  ctx: Pick<ControllerContext, 'store'>,
  user: User,
  desired: ReturnType<typeof desiredAccounts>,
  results: AccountSyncResult[],
  systemsByName: Map<string, ConnectedSystem>,
  now: Date,
): { unrecorded: string[]; until: string | undefined } {
  const unrecorded: string[] = [];
  let until: string | undefined;
  if (user.metadata.deletionTimestamp === undefined) return { unrecorded, until };
  for (const account of desired) {
    const system = systemsByName.get(account.system);
    if (account.state !== 'disabled' || system?.spec.deprovision.policy !== 'disableThenDelete') continue;
    // The entry the system reads off this pass's status once written (the same function computes it).
    const synced = results.find((r) => r.status.system === account.system)?.status;
    const entry = retentionEntry({ ...user, status: { ...user.status, accounts: synced ? [synced] : [] } }, system, now.getTime());
    if (entry === undefined) continue;
    if (until === undefined || entry.deleteAfter > until) until = entry.deleteAfter;
    const current = ctx.store.get('ConnectedSystem', keyOf(system)) ?? system;
    if (!isRecorded(current.status?.retainedAccounts ?? [], entry)) unrecorded.push(account.system);
  }
  return { unrecorded, until };
}

/**
 * An adoption is recorded once, by the pass that made it; a pass that started from a cache that
 * had not yet seen that status must not erase it, so it is carried over from the freshest status
 * stored: the cache's, and after a conflict the server's (Store.updateStatus applies this again).
 */
function withAdoptionsKept(status: UserStatus, latest: UserStatus | undefined): UserStatus {
  const recorded = new Map((latest?.accounts ?? []).filter((a) => a.adopted).map((a) => [a.system, a]));
  const accounts = status.accounts?.map((account) => {
    const known = recorded.get(account.system);
    if (account.adopted || !known || account.state === 'absent') return account;
    return { ...account, adopted: known.adopted, ...(known.adoptedAt && { adoptedAt: known.adoptedAt }) };
  });
  return accounts === undefined ? status : { ...status, accounts };
}

/** Status of a User whose userName an older User holds: Conflict, and not Ready. */
async function refuseConflict(ctx: Pick<ControllerContext, 'store'>, key: ObjectKey, user: User, holder: User, now: Date): Promise<void> {
  const message = `userName ${user.spec.userName} is already used by User ${holder.metadata.name}, which is older: this User gets no account until that one is gone or the userName is changed`;
  let conditions = setCondition(user.status?.conditions, { type: 'Conflict', status: 'True', reason: 'UserNameTaken', message }, user.metadata.generation, now);
  conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason: 'Conflict', message }, user.metadata.generation, now);
  const status: UserStatus = {
    ...user.status,
    observedGeneration: user.metadata.generation,
    state: effectiveState(user, now.getTime()),
    systems: '0/0',
    accounts: [],
    conditions,
  };
  if (!statusEqual(user.status ?? {}, status)) await ctx.store.updateStatus('User', key, status);
}

/**
 * Latency from losing access to "done everywhere", observed once per departure. It starts at the
 * instant access was lost when the User records one (deletion, a validUntil that passed), else when
 * the controller first saw it leaving; it ends when the work is done, read from the clock after the
 * systems answered: the pass's start instant, which the first sight of a leaver also is, would make it 0.
 */
function observeDeprovisionLatency(ctx: Pick<ControllerContext, 'clock' | 'metrics'>, user: User, seenLeavingAt: string, passStart: Date): void {
  const wasDone = user.status?.conditions?.some((c) => c.type === 'Ready' && c.reason === 'Deprovisioned' && c.status === 'True');
  if (wasDone) return;
  const validUntil = user.spec.validUntil === undefined ? undefined : Date.parse(user.spec.validUntil);
  const lostAccessAt = [
    Date.parse(seenLeavingAt),
    user.metadata.deletionTimestamp === undefined ? NaN : Date.parse(user.metadata.deletionTimestamp),
    validUntil !== undefined && validUntil <= passStart.getTime() ? validUntil : NaN,
  ].filter((ms) => !Number.isNaN(ms));
  ctx.metrics?.deprovisionLatency.observe(Math.max(0, ctx.clock.now().getTime() - Math.min(...lostAccessAt)) / 1000);
}

/** A sync that threw instead of returning its failure (a bug, or an Event write that failed): that system's error. */
function unexpectedFailure(system: string, previous: AccountStatus | undefined, error: unknown): AccountSyncResult {
  return {
    status: errorStatus(system, previous, errorMessage(error)),
    changes: [],
    error,
    refused: [],
  };
}

/** Keeps entries of systems that still exist; drops those that became absent and stayed so. */
function mergeAccounts(previous: Map<string, AccountStatus>, current: AccountStatus[], existing: string[]): AccountStatus[] {
  const byName = new Map(previous);
  for (const account of current) byName.set(account.system, account);
  return [...byName.values()]
    .filter((a) => existing.includes(a.system))
    .filter((a) => a.state !== 'absent' || current.some((c) => c.system === a.system))
    .sort((a, b) => a.system.localeCompare(b.system));
}

/** What one pass found, for the User's status. */
interface PassOutcome {
  accounts: AccountStatus[];
  /** The systems the User should be in: its desired accounts, and suspended ones still holding an account. */
  total: number;
  pending: NotReady;
  deprovisionStartedAt: string | undefined;
  accessEndsAt: Date | undefined;
  leaving: boolean;
  /** Every failure is this User's own, none a system's: Ready then names no system unavailable. */
  onlyOwnFailures: boolean;
}

function buildStatus(
  user: User,
  now: Date,
  { accounts, total, pending, deprovisionStartedAt, accessEndsAt, leaving, onlyOwnFailures }: PassOutcome,
): UserStatus {
  const ready = total - Object.values(pending).reduce((sum, list) => sum + list.length, 0);
  const condition = readyCondition(pending, leaving, total, onlyOwnFailures);
  const status: UserStatus = {
    observedGeneration: user.metadata.generation,
    state: effectiveState(user, now.getTime()),
    systems: `${ready}/${total}`,
    accounts,
    conditions: setCondition(user.status?.conditions, condition, user.metadata.generation, now),
  };
  // A time-boxed User (a contractor) says plainly when its validity has run out.
  if (user.spec.validUntil) {
    const expired = now >= new Date(user.spec.validUntil);
    status.conditions = setCondition(
      status.conditions,
      expired
        ? { type: 'Expired', status: 'True', reason: 'ValidUntilPassed', message: `access ended at ${user.spec.validUntil}` }
        : { type: 'Expired', status: 'False', reason: 'WithinValidity', message: `access ends at ${user.spec.validUntil}` },
      user.metadata.generation,
      now,
    );
  }
  if (accessEndsAt) status.accessEndsAt = accessEndsAt.toISOString();
  if (deprovisionStartedAt) status.deprovisionStartedAt = deprovisionStartedAt;
  return status;
}

/** The systems where the User is not as declared yet, each with why, one message per system. */
interface NotReady {
  failed: string[];
  held: string[];
  /** Suspended systems that hold an account of a deleted User. */
  waiting: string[];
  /** Syncs that outlived the reconcile (a slow system). */
  inProgress: string[];
}

function readyCondition({ failed, held, waiting, inProgress }: NotReady, leaving: boolean, total: number, onlyOwnFailures: boolean) {
  if (failed.length)
    return { type: 'Ready', status: 'False' as const, reason: onlyOwnFailures ? 'SyncFailed' : 'SystemUnavailable', message: failed.join('; ') };
  if (held.length) return { type: 'Ready', status: 'False' as const, reason: 'DeletionGuardTripped', message: held.join('; ') };
  if (waiting.length) return { type: 'Ready', status: 'False' as const, reason: 'SystemSuspended', message: waiting.join('; ') };
  if (inProgress.length) return { type: 'Ready', status: 'False' as const, reason: 'InProgress', message: inProgress.join('; ') };
  if (leaving) return { type: 'Ready', status: 'True' as const, reason: 'Deprovisioned', message: `access removed in ${total} system(s)` };
  return { type: 'Ready', status: 'True' as const, reason: 'InSync', message: `in sync with ${total} system(s)` };
}

/**
 * Refused: entitlements the User's roles grant that a system refuses (spec.allowedEntitlements, the
 * system's own rules such as PostgreSQL's predefined and elevated roles, a kubernetes system's
 * reach), each with its reason. With nothing worse to say, Ready is False for it too: the User is
 * not what its roles declare. Once nothing is refused the condition turns False.
 */
function refusedCondition(user: User, results: AccountSyncResult[], conditions: Condition[] | undefined, now: Date): Condition[] | undefined {
  const refused = results.flatMap((r) => r.refused.map((x) => `${r.status.system}: refused ${refusalText(x)}`));
  const generation = user.metadata.generation;
  if (refused.length === 0) {
    const wasRefused = conditions?.some((c) => c.type === 'Refused' && c.status === 'True');
    return wasRefused
      ? setCondition(conditions, { type: 'Refused', status: 'False', reason: 'NoneRefused', message: 'every declared entitlement is granted' }, generation, now)
      : conditions;
  }
  const message = refused.join('; ');
  let out = setCondition(conditions, { type: 'Refused', status: 'True', reason: 'EntitlementRefused', message }, generation, now);
  if (out.some((c) => c.type === 'Ready' && c.reason === 'InSync'))
    out = setCondition(out, { type: 'Ready', status: 'False', reason: 'Refused', message }, generation, now);
  return out;
}
