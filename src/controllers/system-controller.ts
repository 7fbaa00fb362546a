// The ConnectedSystem reconciler: proves the connection (condition Connected), lists the managed
// accounts when a listing is due (once per resyncInterval, or when the system changed), applies the
// orphan policy behind the deletion guard, keeps the guard's condition and window in status, and
// wakes the system's Users after each listing so drift gets corrected.
import {
  FINALIZER,
  changeUserName,
  errorMessage,
  plaintextTransport,
  type Capabilities,
  type Condition,
  type ConnectedSystem,
  type User,
} from '../api/index.ts';
import {
  APPROVE_DEPROVISION_ANNOTATION,
  deprovisionedUserNames,
  guardTripped,
  initialPasswordDecision,
  nextRetentionEnd,
  parsePeriod,
  passOrphans,
  planOrphans,
  planRetention,
  planSystemDeletion,
  takesAccess,
  type GuardDecision,
  type RetainedAccount,
} from '../engine/index.ts';
import { removeCondition, setCondition, statusEqual } from '../api/conditions.ts';
import { credentialsReason } from '../connections/credentials.ts';
import { privateNetworkRefusal } from '../connectors/egress/guard.ts';
import type { Connector } from '../connectors/types.ts';
import { systemPrivateNetworkCondition } from './private-network.ts';
import { keyOf, keyString } from '../store/store.ts';
import { applyChanges, type ApplyContext } from './apply-change.ts';
import type { ControllerContext } from './context.ts';
import { yieldIfBusy } from '../queue/yield.ts';
import { withFinalizer } from './finalizer.ts';
import { requeueAtEarliest, type Outcome, type Reconciler } from './reconciler.ts';
import { mergeRetained } from './retained-accounts.ts';
import { applyRetention, newRetentionAsks, retainedEntries } from './system-retention.ts';
import { readSnapshot } from '../store/world.ts';
import { UndeclaredAccounts } from './undeclared-accounts.ts';
import { statusDisagrees, usersTheListingConcerns } from './listing-wakes.ts';

/** What the reconciler remembers between runs: timing state only. */
export class ListingSchedule {
  /** Per system: when it was last listed, and the spec and annotations it was listed with. */
  readonly #last = new Map<string, { atMs: number; fingerprint: string; capabilities: Capabilities }>();
  readonly #forced = new Set<string>();
  /** Per system whose connector has a change token: its value, the write sequence it was read at, when it was last asked. */
  readonly #tokens = new Map<string, { value: string; sequence: number; polledAtMs: number }>();
  /** How often a change token is asked between listings; 0: never. */
  readonly #pollMs: number;

  constructor(options: { changePollMs?: number } = {}) {
    this.#pollMs = options.changePollMs ?? CHANGE_POLL_MS;
  }

  /** The next reconcile of these systems lists them in full, as a periodic resync would. */
  force(systemKey: string): void {
    this.#forced.add(systemKey);
  }

  due(ctx: Pick<ControllerContext, 'observed'>, system: ConnectedSystem, now: Date): boolean {
    const key = keyString(keyOf(system));
    const last = this.#last.get(key);
    if (!last || this.#forced.has(key) || !ctx.observed.has(key) || last.fingerprint !== fingerprint(system)) return true;
    return now.getTime() >= last.atMs + parsePeriod(system.spec.resyncInterval, '1s');
  }

  listed(system: ConnectedSystem, now: Date, capabilities: Capabilities): void {
    const key = keyString(keyOf(system));
    this.#forced.delete(key);
    this.#last.set(key, { atMs: now.getTime(), fingerprint: fingerprint(system), capabilities });
  }

  /** The system's change token, read at `sequence` of the ObservedCache (its writes after that are Rollcall's). */
  tokenRead(systemKey: string, value: string, sequence: number, now: Date): void {
    this.#tokens.set(systemKey, { value, sequence, polledAtMs: now.getTime() });
  }

  /** The token as last read, if the system has one. */
  token(systemKey: string): { value: string; sequence: number } | undefined {
    return this.#tokens.get(systemKey);
  }

  /** No more asking until the next listing: the token failed, or the system answers it slowly. */
  stopPolling(systemKey: string): void {
    this.#tokens.delete(systemKey);
  }

  /** The token was asked and said nothing new. */
  polled(systemKey: string, now: Date): void {
    const token = this.#tokens.get(systemKey);
    if (token) token.polledAtMs = now.getTime();
  }

  /** When to ask the system's change token next, if it has one and asking beats waiting for the resync. */
  nextPollAt(system: ConnectedSystem): Date | undefined {
    const token = this.#tokens.get(keyString(keyOf(system)));
    if (!token || this.#pollMs <= 0 || parsePeriod(system.spec.resyncInterval, '1s') <= this.#pollMs) return undefined;
    return new Date(token.polledAtMs + this.#pollMs);
  }

  /** What the connector said it can do at the last listing. */
  capabilities(systemKey: string): Capabilities | undefined {
    return this.#last.get(systemKey)?.capabilities;
  }

  nextListingAt(system: ConnectedSystem): Date | undefined {
    const last = this.#last.get(keyString(keyOf(system)));
    return last && new Date(last.atMs + parsePeriod(system.spec.resyncInterval, '1s'));
  }

  forget(systemKey: string): void {
    this.#last.delete(systemKey);
    this.#forced.delete(systemKey);
    this.#tokens.delete(systemKey);
  }
}

/**
 * How often a system that can say whether it changed (Connector.changeToken) is asked between
 * listings: a hand-made change is corrected within seconds instead of at the next resyncInterval.
 */
export const CHANGE_POLL_MS = 5_000;

/** A change token that takes longer than this to answer is not asked between listings. */
export const SLOW_POLL_MS = 1_000;

function fingerprint(system: ConnectedSystem): string {
  return JSON.stringify([system.metadata.generation, system.spec, system.metadata.annotations ?? {}]);
}

export function systemReconciler(ctx: ControllerContext, schedule: ListingSchedule): Reconciler {
  const undeclared = new UndeclaredAccounts();
  return async (key, signal) => {
    const system = ctx.store.get('ConnectedSystem', key);
    const name = keyString(key);
    if (!system) {
      undeclared.forget(name);
      await release(ctx, schedule, name);
      return {};
    }
    return withFinalizer(ctx.store, 'ConnectedSystem', system, {
      apply: (current) => reconcileSystem(ctx, schedule, undeclared, current, signal),
      cleanup: async (current) => {
        const done = await cleanupSystem(ctx, current, signal);
        if (done) {
          undeclared.forget(name);
          await release(ctx, schedule, name);
        }
        // Each leaver that goes wakes the system (watches.ts); the wake-up is the safety net for one
        // whose last event arrived while this reconcile still saw it.
        return { done, outcome: done ? {} : { requeueAt: new Date(ctx.clock.now().getTime() + WAITING_RECHECK_MS) } };
      },
    });
  };
}

const WAITING_RECHECK_MS = 5_000;

/**
 * A deleted system goes only after the Users of its namespace that are being deleted have gone (so
 * deleting a system, or its namespace, never races their deprovisioning), and, under
 * deletionPolicy deprovision, after every account it manages has been deprovisioned. Under retain
 * (the default) its other accounts stay as they are.
 */
async function cleanupSystem(ctx: ControllerContext, system: ConnectedSystem, signal: AbortSignal): Promise<boolean> {
  const { namespace } = keyOf(system);
  const leavers = ctx.store
    .list('User', namespace)
    .filter((u) => u.metadata.deletionTimestamp !== undefined && (u.metadata.finalizers ?? []).includes(FINALIZER));
  if (leavers.length) {
    const names = leavers.map((u) => u.metadata.name);
    const message = `being deleted: waiting for ${names.length} User(s) being deleted to be deprovisioned first: ${names.slice(0, 10).join(', ')}`;
    await writeStatus(ctx, system, { type: 'Ready', status: 'False', reason: 'WaitingForLeavers', message }, {});
    return false;
  }
  if (system.spec.deletionPolicy !== 'deprovision') return true;
  if (system.spec.suspend) {
    await writeStatus(
      ctx,
      system,
      {
        type: 'Ready',
        status: 'False',
        reason: 'Suspended',
        message: 'being deleted with deletionPolicy deprovision, but spec.suspend is true: its accounts are deprovisioned once it resumes',
      },
      {},
    );
    return false;
  }
  const held = await deprovisionAll(ctx, system, signal);
  if (!held) return true;
  // The finalizer stays until a person approves the count (rollcall.dev/approve-deprovision) or
  // raises spec.deletionGuard; the annotation wakes this reconcile.
  const message = `being deleted with deletionPolicy deprovision: ${held.remaining} account(s) wait for the deletion guard`;
  await writeGuardedStatus(ctx, system, { type: 'Ready', status: 'False', reason: 'DeprovisionHeld', message }, {}, held.decision, held.now);
  return false;
}

/**
 * deletionPolicy deprovision: every managed account disabled (or deleted under deprovision.policy
 * delete), through applyChanges like any other change: past the deletion guard's limit the rest is
 * held (undefined once every account has gone).
 */
async function deprovisionAll(
  ctx: ApplyContext & Pick<ControllerContext, 'connections' | 'clock'>,
  system: ConnectedSystem,
  signal: AbortSignal,
): Promise<{ decision: GuardDecision; remaining: number; now: Date } | undefined> {
  return ctx.connections.use(system, async (connector) => {
    const listing = [];
    for await (const account of connector.listAccounts(signal)) listing.push(account);
    const snapshot = readSnapshot(ctx.store, keyOf(system).namespace, ctx.clock);
    ctx.gate.knowRefusal(system, connector.refusal?.bind(connector));
    const plans = planSystemDeletion(system, listing, connector.capabilities);
    // The whole deletion is one pass for the guard: every account counts from the first admission.
    const pass = plans.filter((plan) => plan.deprovisions).map((plan) => plan.userName);
    for (const [index, plan] of plans.entries()) {
      const { userName, changes, deprovisions } = plan;
      const outcome = await applyChanges(
        ctx,
        { system, connector, userName, changes, deprovisions, pass, origin: { kind: 'systemDeletion' }, applied: [], snapshot },
        signal,
      );
      if (outcome.held) return { decision: outcome.decision, remaining: plans.length - index, now: snapshot.now };
    }
    return undefined;
  });
}

/** A change token as read, and whether the system took too long to say it (SLOW_POLL_MS). */
interface ChangeToken {
  value: string | undefined;
  slow: boolean;
}

/**
 * Reads the system's change token, timing the call alone (not the wait for a connection). A system
 * that answers slowly would hold one of the few ConnectedSystem workers every few seconds (a tenant
 * could point one at a slow server to stall every tenant's listings): it is not asked between
 * listings, and its drift waits for the resync, as before.
 */
async function readChangeToken(connector: Connector, signal: AbortSignal): Promise<ChangeToken> {
  const asked = performance.now();
  const value = await connector.changeToken?.(signal);
  return { value, slow: performance.now() - asked > SLOW_POLL_MS };
}

/**
 * Asks the system's change token; true when it changed and Rollcall wrote nothing there since it was
 * last read, so someone else changed the system. When Rollcall wrote meanwhile, its own writes may
 * explain the change: the new token becomes the base, and a hand-made change made at that moment
 * waits for the next resync, as before.
 */
async function changedOutside(
  ctx: Pick<ControllerContext, 'connections' | 'observed' | 'logger'>,
  schedule: ListingSchedule,
  system: ConnectedSystem,
  now: Date,
  signal: AbortSignal,
): Promise<boolean> {
  const name = keyString(keyOf(system));
  const last = schedule.token(name);
  if (!last) return false;
  const sequence = ctx.observed.sequence();
  let token: ChangeToken;
  try {
    token = await ctx.connections.use(system, (connector) => readChangeToken(connector, signal));
  } catch {
    // The listing at the resync says what is wrong; until then a failing system is not asked again.
    schedule.stopPolling(name);
    return false;
  }
  const { value, slow } = token;
  if (slow) schedule.stopPolling(name);
  if (value === undefined || value === last.value) {
    if (!slow) schedule.polled(name, now);
    return false;
  }
  if (ctx.observed.writtenSince(name, last.sequence)) {
    if (!slow) schedule.tokenRead(name, value, sequence, now);
    return false;
  }
  ctx.logger.info({ system: name }, 'the system changed outside Rollcall: listing it now');
  return true;
}

async function release(ctx: Pick<ControllerContext, 'connections' | 'gate' | 'observed'>, schedule: ListingSchedule, name: string): Promise<void> {
  ctx.observed.forget(name);
  ctx.gate.forget(name);
  schedule.forget(name);
  await ctx.connections.release(name);
}

async function reconcileSystem(
  ctx: ControllerContext,
  schedule: ListingSchedule,
  undeclared: UndeclaredAccounts,
  system: ConnectedSystem,
  signal: AbortSignal,
): Promise<Outcome> {
  const key = keyOf(system);
  const name = keyString(key);
  const now = ctx.clock.now();
  if (system.spec.suspend) {
    await writeStatus(ctx, system, { type: 'Ready', status: 'False', reason: 'Suspended', message: 'spec.suspend is true: no changes are made' }, {});
    return {};
  }
  const retained = retainedEntries(ctx, system);
  const retentionEnd = nextRetentionEnd(retained);
  const scheduled = schedule.due(ctx, system, now) || (retentionEnd !== undefined && retentionEnd <= now.getTime());
  const pollAt = schedule.nextPollAt(system);
  const changed = !scheduled && pollAt !== undefined && pollAt <= now && (await changedOutside(ctx, schedule, system, now, signal));
  if (!scheduled && !changed) {
    // Between listings (the counts in status are the last listing's) only the guard's condition and
    // window need keeping current. A deprovision admitted or held wakes this (applyChanges); the
    // decision re-plans only the Users that changed since the last one (DeletionGate).
    const capabilities = schedule.capabilities(name);
    if (capabilities) {
      const snapshot = readSnapshot(ctx.store, key.namespace, ctx.clock);
      // The orphans the next listing would act on, from the accounts no User names (kept between reconciles).
      const orphans = planOrphans(
        undeclared.of(ctx.observed, name, snapshot.world.users),
        new Set(retained.map((e) => e.userName)),
        system.spec.orphans,
        capabilities,
      );
      const decision = await ctx.gate.decide(ctx, system, capabilities, snapshot, { orphans: deprovisionedUserNames(orphans.changes) });
      await writeGuardedStatus(ctx, system, undefined, {}, decision, snapshot.now);
    }
    // A deleted User waits for its retained account to show in this status. The requeue counts the
    // entries just written: the cache may not have seen that write yet, and a status-only change
    // does not wake this controller, so a retention end read from the cache would be missed.
    const asked = newRetentionAsks(ctx, system, retained, now).length > 0;
    const written = asked ? await writeStatus(ctx, system, undefined, {}) : retainedEntries(ctx, system);
    return requeueAtEarliest([schedule.nextListingAt(system), schedule.nextPollAt(system), nextRetentionEnd(written)]);
  }

  let listing;
  const listingStarted = ctx.observed.beginListing();
  try {
    listing = await ctx.connections.use(system, async (connector) => {
      await connector.check(signal);
      // Read before the listing: a change made while it runs shows as a new token at the next poll.
      const token = await readChangeToken(connector, signal);
      if (token.value !== undefined && !token.slow) schedule.tokenRead(name, token.value, listingStarted, now);
      else schedule.stopPolling(name);
      const accounts = [];
      for await (const account of connector.listAccounts(signal)) accounts.push(account);
      // Every name in the system, whoever's: a joiner whose name is not among them is created unread (sync-account.ts).
      let userNames: Set<string> | undefined;
      if (connector.listUserNames) {
        userNames = new Set();
        for await (const userName of connector.listUserNames(signal)) userNames.add(userName);
      }
      ctx.gate.knowRefusal(system, connector.refusal?.bind(connector));
      return { accounts, userNames, capabilities: connector.capabilities };
    });
  } catch (error) {
    const refused = privateNetworkRefusal(error);
    const message = refused ? `ConnectedSystem ${system.metadata.name}: ${refused.message}` : errorMessage(error);
    ctx.observed.forget(name);
    // A missing Secret, or one that does not opt in, is not a connection failure: say which Secret
    // and what it lacks, once as a Warning Event (a person has to act) and in the conditions.
    const credentials = credentialsReason(error) ?? (refused ? 'PrivateNetworkRefused' : undefined);
    const said = system.status?.conditions?.find((c) => c.type === 'Ready');
    if (credentials && (said?.reason !== credentials || said.message !== message)) {
      await ctx.store.recordEvent('ConnectedSystem', system, 'Warning', credentials, message);
    }
    await writeStatus(
      ctx,
      system,
      { type: 'Ready', status: 'False', reason: credentials ?? 'Unreachable', message },
      { connected: { status: 'False', reason: credentials ?? 'ConnectionFailed', message } },
    );
    throw error;
  }
  ctx.observed.replace(name, listing.accounts, listingStarted, listing.userNames);
  schedule.listed(system, now, listing.capabilities);
  ctx.metrics?.listings.inc({ system: name, cause: changed ? 'changed' : 'scheduled' });
  // Read after the listing: a User whose account appeared while it ran is no orphan.
  const snapshot = readSnapshot(ctx.store, key.namespace, ctx.clock);
  const { users } = snapshot.world;
  // Accounts kept for deleted Users until their retention ends are not orphans.
  const retention = planRetention(retained, listing.accounts, users, listing.capabilities, snapshot.now.getTime());
  // Compared after the write-throughs made during the listing, and not for the accounts written
  // since it began: a mover caught mid-change is not drift.
  const { drifted, failing } = await compareWithStatus(ctx, system, users, listing.capabilities);
  const { orphans, changes } = passOrphans(system, listing.accounts, users, retention.kept, listing.capabilities);
  for (const orphan of orphans) {
    if (system.spec.orphans !== 'ignore') ctx.logger.info({ system: name, account: orphan.userName }, 'orphan account found');
  }

  const orphanNames = [...deprovisionedUserNames(changes)];
  const decision = await ctx.gate.decide(ctx, system, listing.capabilities, snapshot, {
    orphans: orphanNames,
    accounts: retention.due.map((d) => d.entry.userName),
  });
  if (!decision.verdict.tripped && changes.length) {
    await ctx.connections.use(system, async (connector) => {
      // One account at a time: the guard counts accounts, and an account's changes go together.
      for (const [userName, accountChanges] of Map.groupBy(changes, changeUserName)) {
        const deprovisions = accountChanges.some(takesAccess);
        const request = {
          system,
          connector,
          userName,
          changes: accountChanges,
          deprovisions,
          pass: orphanNames,
          origin: { kind: 'orphan' as const },
          applied: [],
          snapshot,
        };
        const outcome = await applyChanges(ctx, request, signal);
        if (outcome.held) break;
      }
    });
  }
  if (!decision.verdict.tripped) await applyRetention(ctx, system, retention, snapshot, signal);
  // Announce only orphans the previous listing did not have.
  const newOrphans = ctx.observed.updateOrphans(
    name,
    orphans.map((o) => o.userName),
  );
  if (newOrphans.length && system.spec.orphans !== 'ignore') {
    await ctx.store.recordEvent(
      'ConnectedSystem',
      system,
      'Warning',
      'OrphanFound',
      `${newOrphans.length} managed account(s) that no User declares: ${newOrphans.slice(0, 10).join(', ')}`,
    );
  }
  ctx.metrics?.orphans.set({ system: name }, orphans.length);
  for (const state of ['present', 'disabled'] as const) {
    ctx.metrics?.accounts.set({ system: name, state }, listing.accounts.filter((a) => a.state === state).length);
  }

  // A credentials policy this connector cannot honour blocks every joiner's create (sync-account.ts):
  // the system says so too, naming the field, where an administrator looks first.
  const policy = initialPasswordDecision({ name: system.metadata.name, spec: system.spec }, listing.capabilities);
  const written = await writeGuardedStatus(
    ctx,
    system,
    'refused' in policy
      ? { type: 'Ready', status: 'False', reason: 'CredentialsPolicyUnsupported', message: policy.refused }
      : { type: 'Ready', status: 'True', reason: 'Synced', message: `${listing.accounts.length} managed account(s)` },
    {
      connected: { status: 'True', reason: 'Connected', message: 'connection and credentials work' },
      managed: listing.accounts.length,
      orphaned: orphans.length,
      drifted,
      failing,
      retainedGone: retention.gone,
    },
    decision,
    snapshot.now,
  );
  // Only the Users the listing gives something to do (drift, a pending failure or hold, ...);
  // thousands of them are woken in slices, so the event loop keeps turning.
  const listed = ctx.observed.accountsByName(name) ?? new Map();
  for (const user of await usersTheListingConcerns(system, snapshot, listed, listing.capabilities)) {
    await yieldIfBusy();
    ctx.enqueue('User', keyOf(user));
  }
  return requeueAtEarliest([schedule.nextListingAt(system), schedule.nextPollAt(system), nextRetentionEnd(written)]);
}

/**
 * Writes the status with the guard's part (DeletionGuardTripped and the window), and emits
 * GuardTripped once per trip. An approval releases one pass: once that pass is within the limit
 * again it is spent, its annotation removed only after this status, showing the guard released, is
 * written. Removed first, a reconcile that saw the annotation gone while the status still showed the
 * trip would latch the guard again and hold the approved pass. One status write per reconcile: a
 * second one would start from a cache that has not seen the first yet.
 */
async function writeGuardedStatus(
  ctx: Pick<ControllerContext, 'store' | 'gate' | 'metrics' | 'clock' | 'enqueue'>,
  system: ConnectedSystem,
  ready: Parameters<typeof writeStatus>[2],
  extra: Extra,
  decision: GuardDecision,
  now: Date,
): Promise<RetainedAccount[]> {
  const { verdict } = decision;
  // Announced once per trip: when the status (this reconcile's copy, or a newer one the store has) does not show it yet.
  if (verdict.tripped && !guardTripped(system) && !guardTripped(ctx.store.get('ConnectedSystem', keyOf(system)) ?? system)) {
    ctx.metrics?.deletionGuardTripped.inc({ system: keyString(keyOf(system)) });
    await ctx.store.recordEvent('ConnectedSystem', system, 'Warning', 'GuardTripped', verdict.message);
    // Held Users show it in their status; they are looked at again when the guard is released.
  }
  const written = await writeStatus(ctx, system, ready, {
    ...extra,
    guard: verdict.tripped
      ? { status: 'True', reason: 'TooManyDeprovisions', message: verdict.message }
      : { status: 'False', reason: 'WithinLimit', message: 'no pending pass exceeds the deletion guard' },
    recentDeprovisions: ctx.gate.window(system, now),
  });
  if (decision.withinLimit && system.metadata.annotations?.[APPROVE_DEPROVISION_ANNOTATION] !== undefined) {
    await ctx.store.setAnnotations('ConnectedSystem', keyOf(system), { [APPROVE_DEPROVISION_ANNOTATION]: null });
  }
  return written;
}

type Extra = {
  connected?: { status: 'True' | 'False'; reason: string; message: string };
  guard?: { status: 'True' | 'False'; reason: string; message: string };
  managed?: number;
  orphaned?: number;
  drifted?: number;
  failing?: number;
  recentDeprovisions?: NonNullable<ConnectedSystem['status']>['recentDeprovisions'];
  /** Retained accounts to drop from status (deleted, or declared again). */
  retainedGone?: ReadonlySet<string>;
};

/**
 * Drifted: accounts whose state or entitlements in the system no longer match what the User's
 * status recorded when Rollcall last synced them, i.e. changed by someone else. The Users are
 * re-queued right after, which reverts them. Failing: accounts whose last sync failed.
 */
async function compareWithStatus(
  ctx: Pick<ControllerContext, 'observed'>,
  system: ConnectedSystem,
  users: readonly User[],
  capabilities: Capabilities,
): Promise<{ drifted: number; failing: number }> {
  const systemKey = keyString(keyOf(system));
  const byName = ctx.observed.accountsByName(systemKey);
  let drifted = 0;
  let failing = 0;
  for (const user of users) {
    await yieldIfBusy(); // tens of thousands of Users: in slices
    const recorded = user.status?.accounts?.find((a) => a.system === system.metadata.name);
    if (!recorded || ctx.observed.writtenSinceListing(systemKey, user.spec.userName)) continue;
    if (recorded.state === 'error') {
      failing++;
      continue;
    }
    if (statusDisagrees(recorded, byName?.get(user.spec.userName), capabilities)) drifted++;
  }
  return { drifted, failing };
}

async function writeStatus(
  ctx: Pick<ControllerContext, 'store' | 'clock' | 'enqueue'>,
  system: ConnectedSystem,
  ready: { type: string; status: 'True' | 'False'; reason: string; message: string } | undefined,
  extra: Extra,
): Promise<RetainedAccount[]> {
  const now = ctx.clock.now();
  const generation = system.metadata.generation;
  let conditions = system.status?.conditions;
  if (ready) conditions = setCondition(conditions, ready, generation, now);
  if (extra.connected) conditions = setCondition(conditions, { type: 'Connected', ...extra.connected }, generation, now);
  if (extra.guard) conditions = setCondition(conditions, { type: 'DeletionGuardTripped', ...extra.guard }, generation, now);
  conditions = insecureCondition(system, conditions, now);
  conditions = systemPrivateNetworkCondition(system, conditions, now);
  const status = { ...system.status, observedGeneration: generation, conditions };
  if (extra.managed !== undefined) status.managed = extra.managed;
  if (extra.orphaned !== undefined) status.orphaned = extra.orphaned;
  if (extra.drifted !== undefined) status.drifted = extra.drifted;
  if (extra.failing !== undefined) status.failing = extra.failing;
  if (extra.recentDeprovisions !== undefined) {
    if (extra.recentDeprovisions.length) status.recentDeprovisions = extra.recentDeprovisions;
    else delete status.recentDeprovisions;
  }
  // Every status write records what deleted Users ask to retain (the only writer of this field).
  const recorded = retainedEntries(ctx, system);
  const asked = newRetentionAsks(ctx, system, recorded, now);
  const retained = mergeRetained(recorded, asked, extra.retainedGone ?? new Set());
  if (retained.length) Object.assign(status, { retained: retained.length, retainedAccounts: retained });
  else {
    delete status.retained;
    delete status.retainedAccounts;
  }
  if (!statusEqual(system.status ?? {}, status)) await ctx.store.updateStatus('ConnectedSystem', keyOf(system), status);
  // The deleted Users that asked see the record now, and let their finalizer go.
  for (const entry of asked) ctx.enqueue('User', { namespace: keyOf(system).namespace, name: entry.user });
  return retained;
}

/** A warning while the system talks plaintext because spec.insecure allows it; absent otherwise. */
function insecureCondition(system: ConnectedSystem, conditions: Condition[] | undefined, now: Date): Condition[] | undefined {
  const plaintext = system.spec.insecure ? plaintextTransport(system.spec) : undefined;
  if (!plaintext) return conditions?.some((c) => c.type === 'Insecure') ? removeCondition(conditions, 'Insecure') : conditions;
  const message = `${plaintext}: credentials and account data cross the network unencrypted (allowed by spec.insecure: true)`;
  return setCondition(conditions, { type: 'Insecure', status: 'True', reason: 'PlaintextAllowed', message }, system.metadata.generation, now);
}
