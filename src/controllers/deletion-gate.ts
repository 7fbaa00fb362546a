// The deletion guard on the reconcile path. The decision is the engine's (decideSystemGuard, as `rollcall plan`'s); this keeps
// what it needs between reconciles:
// - per system and User, whether the engine would deprovision the User's account now. Each answer
//   is kept with what it was computed from (the User's resourceVersion, the observed account, the
//   namespace's declarations) and the instant it stops holding (the User's next wake-up), so a
//   decision at 10,000 Users re-plans only what changed, never the whole namespace per leaver;
// - the system's record of recent deprovisions, seeded from and written back to its status, so it
//   survives restarts and leader changes. Whether the guard has tripped is the status's to say
//   (its DeletionGuardTripped condition), not this object's.
// Admissions are serialized per system: the decision and the recording of the deprovision it lets
// through happen together, so reconciles running side by side can never both slip under the limit.
// Those that wait meanwhile are decided together, on one pass over the Users (admit).
import type { Capabilities, ConnectedSystem, ObservedAccount, Snapshot, User } from '../api/index.ts';
import { changedPositions } from '../api/index.ts';
import {
  accessWindow,
  bindingSelectsUser,
  resolveRole,
  holdingUsers,
  decideSystemGuard,
  parseDuration,
  planAccountFor,
  withDeprovisionClock,
  type EntitlementRefusal,
  type GuardDecision,
  type RecentDeprovision,
  type World,
} from '../engine/index.ts';
import { createdAt, guardWindowStart, type DistinctNames } from '../engine/guard-base.ts';
import { yieldIfBusy } from '../queue/yield.ts';
import { keyOf, keyString } from '../store/store.ts';
import type { ControllerContext } from './context.ts';
import type { ObservedMark } from './observed-cache.ts';

interface Answer {
  resourceVersion: string | undefined;
  /** The cache's entry it was computed from (undefined: from the User's status, covered by resourceVersion). */
  cached: ObservedAccount | null | undefined;
  holds: boolean;
  deprovisions: boolean;
  /** Epoch ms from which the answer may change by time alone. */
  validUntil: number;
}

/** What is pending in a system: its namespace's Users, those the engine would deprovision now, and the base. */
interface Pending {
  users: readonly User[];
  pending: readonly string[];
  /** The listing cache's own map when there is one: decide on it at once, before the cache can change. */
  accounts: DistinctNames;
  /** The base (guardBase), kept with the answers; undefined when it must be counted afresh. */
  managed: number | undefined;
}

/**
 * What the gate keeps per system between decisions. A decision brings it up to date by looking
 * again only at the Users whose object changed (the store's list replaces a changed User in place)
 * and the accounts the listing cache wrote or doubted since (its change log); everything, when
 * something else changed: the namespace's declarations, a User gone, a listing, an answer's time.
 */
interface Kept {
  /** The namespace's declarations and the connector's abilities the answers were computed with (worldFingerprint). */
  world: string;
  byUser: Map<string, Answer>;
  /** The holders the sets below are up to date with, and each one's position by userName. */
  holders: readonly User[] | undefined;
  positions: Map<string, number>;
  /** Holders the engine would deprovision now; holders with an account there. */
  pending: Set<string>;
  held: Set<string>;
  /**
   * The holders created within the guard's window, oldest first (userName → creation ms), and those
   * of them whose account the base counts over: the base leaves these out (guardBase). The window
   * only moves forward, so they leave from the front.
   */
  young: Map<string, number>;
  youngCounted: Set<string>;
  /** The creation of the youngest in `young`: a holder added later must be no older, to keep the order. */
  youngest: number;
  /** The earliest instant an answer may change by time alone (Answer.validUntil). */
  expiresAt: number;
  /** Where the answers stand in the listing cache's change log. */
  observed: ObservedMark | undefined;
}

/** What one pass of the gate over a system reads, the same for every holder it looks at. */
interface PassInputs {
  ctx: GateContext;
  kept: Kept;
  system: ConnectedSystem;
  systemKey: string;
  capabilities: Capabilities;
  world: World;
  now: Date;
}

/** Users per slice of the pass over a namespace between turns of the event loop. */
const YIELD_EVERY = 500;

/** One account asking to be deprovisioned, waiting for its turn. */
interface Admission {
  ctx: GateContext;
  system: ConnectedSystem;
  capabilities: Capabilities;
  userName: string;
  snapshot: Snapshot;
  pass: PassDeprovisions;
  resolve: (decision: GuardDecision) => void;
  reject: (error: unknown) => void;
}

/** What the gate reads besides the reconcile's snapshot: the systems' listings. */
export type GateContext = Pick<ControllerContext, 'observed' | 'store'>;

/** What a pass adds to the Users' pending deprovisions, by userName (one already in the window counts once). */
export interface PassDeprovisions {
  /** Orphans the orphan policy would disable, delete or revoke from. */
  orphans?: Iterable<string>;
  /** Other accounts this pass deprovisions: the accounts of a system deleted under deletionPolicy deprovision. */
  accounts?: Iterable<string>;
}

export class DeletionGate {
  readonly #kept = new Map<string, Kept>();
  /** Per system, the pass bringing its kept answers up to date: one at a time, as each pass changes them. */
  readonly #passes = new Map<string, Promise<unknown>>();
  readonly #recent = new Map<string, RecentDeprovision[]>();
  /** Per system, what its connector refuses to grant: a refused entitlement held from before is a pending revoke. */
  readonly #refusals = new Map<string, EntitlementRefusal>();
  /** Per system: admissions waiting for the one being decided, and whether one is. */
  readonly #waiting = new Map<string, Admission[]>();
  readonly #admitting = new Set<string>();
  #plans = 0;

  /** How many account plans the gate has made: one per User whose answer it could not reuse. */
  get plans(): number {
    return this.#plans;
  }

  /** Whoever holds the system's connector tells the gate what it refuses, so its count matches the plan's. */
  knowRefusal(system: ConnectedSystem, refusal: EntitlementRefusal | undefined): void {
    const key = keyString(keyOf(system));
    // The answers were computed with or without one: learning otherwise makes them stale.
    if (this.#refusals.has(key) !== (refusal !== undefined)) this.#kept.delete(key);
    if (refusal) this.#refusals.set(key, refusal);
    else this.#refusals.delete(key);
  }

  /** The guard's decision for the system's current pass: the Users' pending deprovisions, and what `pass` adds. */
  async decide(
    ctx: GateContext,
    system: ConnectedSystem,
    capabilities: Capabilities,
    snapshot: Snapshot,
    pass: PassDeprovisions = {},
    candidate?: string,
  ): Promise<GuardDecision> {
    // Every system is guarded (spec.deletionGuard or the default), so every decision counts what is pending.
    return this.#decideWith(ctx, await this.#pending(ctx, system, capabilities, snapshot), system, snapshot.now, pass, candidate);
  }

  #decideWith(ctx: GateContext, found: Pending, system: ConnectedSystem, now: Date, pass: PassDeprovisions, candidate?: string): GuardDecision {
    // The account asking to be deprovisioned counts even if the store does not show it leaving yet.
    const asking = candidate === undefined ? [] : [candidate];
    return decideSystemGuard({
      // The freshest copy: whether the guard is tripped and approved is its status's and annotations'
      // now, not as they were when the reconcile or sync asking began (an approval given meanwhile
      // would otherwise be missed, and a trip released meanwhile latched again).
      system: ctx.store.get('ConnectedSystem', keyOf(system)) ?? system,
      users: found.users,
      accounts: found.accounts,
      pending: [...found.pending, ...(pass.accounts ?? []), ...asking],
      orphans: pass.orphans,
      recent: this.recent(system),
      managed: found.managed,
      now,
    });
  }

  /**
   * May this account in the system be deprovisioned now? When the decision lets it through, the
   * account joins the window at once, before the write, inside the same per-system turn. `pass`:
   * what the same pass deprovisions besides (the orphans, or a deleted system's other accounts).
   *
   * Admissions that arrive while one is being decided are decided together next: what is pending
   * is worked out once for them all (a pass over the namespace's Users), then each is decided and
   * joins the window in turn, exactly as one after another would. A burst of 100 leavers thus costs
   * a few passes over ten thousand Users, not a hundred.
   */
  admit(
    ctx: GateContext,
    system: ConnectedSystem,
    capabilities: Capabilities,
    userName: string,
    snapshot: Snapshot,
    pass: PassDeprovisions = {},
  ): Promise<GuardDecision> {
    const key = keyString(keyOf(system));
    return new Promise<GuardDecision>((resolve, reject) => {
      const waiting = this.#waiting.get(key) ?? [];
      waiting.push({ ctx, system, capabilities, userName, snapshot, pass, resolve, reject });
      this.#waiting.set(key, waiting);
      if (!this.#admitting.has(key)) void this.#admitWaiting(key);
    });
  }

  async #admitWaiting(key: string): Promise<void> {
    this.#admitting.add(key);
    try {
      for (let batch = this.#waiting.get(key); batch?.length; batch = this.#waiting.get(key)) {
        this.#waiting.delete(key);
        // The newest snapshot is the freshest view of what is pending for every admission in the batch.
        const newest = batch.reduce((a, b) => (b.snapshot.now.getTime() > a.snapshot.now.getTime() ? b : a));
        let found: Pending;
        try {
          found = await this.#pending(newest.ctx, newest.system, newest.capabilities, newest.snapshot);
        } catch (error) {
          for (const request of batch) request.reject(error);
          continue;
        }
        for (const request of batch) {
          const decision = this.#decideWith(request.ctx, found, request.system, request.snapshot.now, request.pass, request.userName);
          if (!decision.verdict.tripped) this.#record(request.system, request.userName, request.snapshot.now);
          request.resolve(decision);
        }
      }
    } finally {
      this.#admitting.delete(key);
    }
  }

  #record(system: ConnectedSystem, userName: string, now: Date): void {
    const recent = this.recent(system).filter((entry) => entry.userName !== userName);
    recent.push({ userName, at: now.toISOString() });
    this.#recent.set(keyString(keyOf(system)), recent);
  }

  /** The system's deprovision record: what this process made, else what its status kept. */
  recent(system: ConnectedSystem): RecentDeprovision[] {
    const key = keyString(keyOf(system));
    let recent = this.#recent.get(key);
    if (!recent) {
      recent = [...(system.status?.recentDeprovisions ?? [])];
      this.#recent.set(key, recent);
    }
    return recent;
  }

  /** The record pruned to the guard's window (resyncInterval back from now): what status keeps. */
  window(system: ConnectedSystem, now: Date): RecentDeprovision[] {
    const since = now.getTime() - parseDuration(system.spec.resyncInterval);
    const kept = this.recent(system).filter((entry) => Date.parse(entry.at) >= since);
    this.#recent.set(keyString(keyOf(system)), kept);
    return kept;
  }

  /** A system that is gone takes its record with it. */
  forget(systemKey: string): void {
    this.#kept.delete(systemKey);
    this.#passes.delete(systemKey);
    this.#recent.delete(systemKey);
    this.#refusals.delete(systemKey);
  }

  /**
   * The namespace's Users, those whose account the engine would disable, delete or revoke from now,
   * and the accounts in the managed scope (the listing, else the accounts the Users hold).
   */
  #pending(ctx: GateContext, system: ConnectedSystem, capabilities: Capabilities, snapshot: Snapshot): Promise<Pending> {
    const systemKey = keyString(keyOf(system));
    const pass = (this.#passes.get(systemKey) ?? Promise.resolve()).then(() => this.#pendingNow(ctx, system, systemKey, capabilities, snapshot));
    this.#passes.set(
      systemKey,
      pass.catch(() => undefined),
    );
    return pass;
  }

  async #pendingNow(ctx: GateContext, system: ConnectedSystem, systemKey: string, capabilities: Capabilities, { world, now }: Snapshot): Promise<Pending> {
    const fingerprint = worldFingerprint(world, capabilities);
    let kept = this.#kept.get(systemKey);
    if (!kept || kept.world !== fingerprint) {
      kept = {
        world: fingerprint,
        byUser: new Map(),
        holders: undefined,
        positions: new Map(),
        pending: new Set(),
        held: new Set(),
        young: new Map(),
        youngCounted: new Set(),
        youngest: -Infinity,
        expiresAt: 0,
        observed: undefined,
      };
      this.#kept.set(systemKey, kept);
    }
    const holders = holdingUsers(world.users);
    const observed = ctx.observed.changesSince(systemKey, kept.observed);
    const inputs: PassInputs = { ctx, kept, system, systemKey, capabilities, world, now };
    const look = (user: User, position: number) => this.#lookAgain(inputs, user, position);
    // The holders whose account the listing cache wrote or doubted.
    const lookAtAccounts = (userNames: readonly string[]) => {
      for (const userName of userNames) {
        const position = kept.positions.get(userName);
        if (position !== undefined) look(holders[position]!, position);
      }
    };
    const windowStart = guardWindowStart(system, now);
    const changed = observed.names ? sameHoldersChanged(kept, holders, windowStart) : undefined;
    // Answers whose time came (a binding ended, a start date passed): those holders are looked at again.
    const due = changed !== undefined && now.getTime() >= kept.expiresAt;
    const expired = due ? expiredAnswers(kept, now) : [];
    let exact = true;
    // Many changes since (a namespace converging between two decisions): the full pass, which lets the
    // event loop turn between slices, looks at them as cheaply (it reuses every answer still valid).
    if (changed && observed.names && changed.length + observed.names.length + expired.length <= YIELD_EVERY) {
      // Only what changed since the last decision: a leaver's own write, the accounts written through.
      for (const position of changed) look(holders[position]!, position);
      lookAtAccounts(observed.names);
      if (due) {
        lookAtAccounts(expired);
        kept.expiresAt = earliestValidUntil(kept);
      }
      kept.observed = observed.mark;
    } else {
      kept.positions.clear();
      kept.pending.clear();
      kept.held.clear();
      ({ young: kept.young, youngest: kept.youngest } = youngHolders(holders, windowStart));
      kept.youngCounted.clear();
      kept.expiresAt = Infinity;
      for (const [position, user] of holders.entries()) {
        // Ten thousand Users: a tight loop, letting the event loop turn between slices.
        if (position % YIELD_EVERY === 0) await yieldIfBusy();
        look(user, position);
      }
      // Users gone since (every holder has an answer now, so only then are there more answers than holders).
      if (kept.byUser.size > holders.length) for (const userName of kept.byUser.keys()) if (!kept.positions.has(userName)) kept.byUser.delete(userName);
      // Accounts written while the pass let the event loop turn: looked at again, so the sets match the cache now.
      const during = ctx.observed.changesSince(systemKey, observed.mark);
      lookAtAccounts(during.names ?? []);
      kept.observed = during.mark;
      // Listed meanwhile: the sets are the next decision's to redo; this one counts its base afresh.
      exact = during.names !== undefined;
    }
    kept.holders = holders;
    // Holders whose creation left the window count in the base from now on.
    for (const [userName, createdMs] of kept.young) {
      if (createdMs > windowStart) break;
      kept.young.delete(userName);
      kept.youngCounted.delete(userName);
    }
    // The same base as `rollcall plan` (planSystemPass): the listing, else the accounts the Users hold.
    const accounts = ctx.observed.accountsByName(systemKey) ?? new Set(kept.held); // a copy: the next pass changes the kept one
    return { users: world.users, pending: [...kept.pending], accounts, managed: exact ? accounts.size - kept.youngCounted.size : undefined };
  }

  /** Brings one holder's answer and its part of the kept sets up to date. */
  #lookAgain({ ctx, kept, system, systemKey, capabilities, world, now }: PassInputs, user: User, position: number): void {
    const userName = user.spec.userName;
    const cached = ctx.observed.get(systemKey, userName);
    let answer = kept.byUser.get(userName);
    if (!answer || answer.resourceVersion !== user.metadata.resourceVersion || answer.cached !== cached || answer.validUntil <= now.getTime()) {
      answer = answerFor(user, world, system, cached, capabilities, now, this.#refusals.get(systemKey));
      this.#plans++;
      kept.byUser.set(userName, answer);
    }
    kept.positions.set(userName, position);
    if (answer.holds) kept.held.add(userName);
    else kept.held.delete(userName);
    if (answer.deprovisions) kept.pending.add(userName);
    else kept.pending.delete(userName);
    kept.expiresAt = Math.min(kept.expiresAt, answer.validUntil);
    // Whether the base leaves this account out: its holder is within the window, and it is among the accounts counted.
    const counted = ctx.observed.accountsByName(systemKey) ?? kept.held;
    if (kept.young.has(userName) && counted.has(userName)) kept.youngCounted.add(userName);
    else kept.youngCounted.delete(userName);
  }
}

/**
 * The positions of the holders that changed since the kept ones, when each is a newer version of
 * the same User (or a new holder added at the end, created no earlier than the kept young ones):
 * else undefined, and the gate looks at every holder again. A holder gone, or another User now
 * holding a userName, shifts what the positions mean.
 */
function sameHoldersChanged(kept: Kept, holders: readonly User[], windowStart: number): number[] | undefined {
  if (!kept.holders) return undefined;
  const changed = changedPositions(kept.holders, holders);
  if (!changed) return undefined;
  for (const position of changed) {
    const before = kept.holders[position];
    const after = holders[position]!;
    if (before ? before.metadata.uid !== after.metadata.uid || before.spec.userName !== after.spec.userName : kept.positions.has(after.spec.userName))
      return undefined;
    if (before) continue;
    // A holder added since: young, and the youngest (the young are kept oldest first).
    const createdMs = createdAt(after);
    if (!(createdMs > windowStart && createdMs >= kept.youngest)) return undefined;
    kept.young.set(after.spec.userName, createdMs);
    kept.youngest = createdMs;
  }
  return changed;
}

/** The holders whose answer may have changed by time alone by `now`. */
function expiredAnswers(kept: Kept, now: Date): string[] {
  const expired: string[] = [];
  for (const [userName, answer] of kept.byUser) if (answer.validUntil <= now.getTime()) expired.push(userName);
  return expired;
}

/** The earliest instant one of the kept answers may change by time alone. */
function earliestValidUntil(kept: Kept): number {
  let earliest = Infinity;
  for (const answer of kept.byUser.values()) earliest = Math.min(earliest, answer.validUntil);
  return earliest;
}

/** The holders created after windowStart, oldest first (userName → creation ms), and the youngest one's creation. */
function youngHolders(holders: readonly User[], windowStart: number): { young: Map<string, number>; youngest: number } {
  const young: [string, number][] = [];
  let youngest = -Infinity;
  for (const user of holders) {
    const createdMs = createdAt(user);
    if (createdMs <= windowStart) continue;
    young.push([user.spec.userName, createdMs]);
    youngest = Math.max(youngest, createdMs);
  }
  return { young: new Map(young.sort((a, b) => a[1] - b[1])), youngest };
}

function answerFor(
  user: User,
  world: World,
  system: ConnectedSystem,
  cached: ObservedAccount | null | undefined,
  capabilities: Capabilities,
  now: Date,
  refusal: EntitlementRefusal | undefined,
): Answer {
  const observed = cached === undefined ? recordedAccount(system, user) : (cached ?? undefined);
  const base = { resourceVersion: user.metadata.resourceVersion, cached, holds: observed !== undefined };
  // Nothing held there: nothing to deprovision, whatever the time.
  if (!observed) return { ...base, deprovisions: false, validUntil: Infinity };
  // The plan `rollcall plan` makes for this account (planSystemPass), so both count the same deprovisions.
  const deprovisions = planAccountFor(user, world, system, observed, capabilities, now, refusal)?.deprovisions ?? false;
  const seen = withDeprovisionClock(user, now);
  const validUntil = accessWindow(seen, world.bindings, world.roles, [system], now, world.reviews, world.users).nextWakeAt?.getTime() ?? Infinity;
  return { ...base, deprovisions, validUntil };
}

/**
 * What every answer of a namespace depends on besides the User itself: specs, not status. Another
 * User's change matters to a User's answer only through an approval: it covers the Users its
 * binding selects (by labels, uid and userName), so one selected, or no longer, can void it for all
 * of them. Only those Users count, and none where no role asks for approval: a leaver's own change
 * must not make the gate re-plan ten thousand others.
 */
function worldFingerprint(world: World, capabilities: Capabilities): string {
  const versions = (objects: readonly { metadata: { uid?: string; generation?: number } }[]) =>
    objects.map((o) => `${o.metadata.uid}@${o.metadata.generation}`).join(',');
  const approvals = world.bindings.filter((binding) => resolveRole(binding.spec.role, world.roles)?.requiresApproval);
  const covered = approvals.length ? (world.users ?? []).filter((user) => approvals.some((binding) => bindingSelectsUser(binding, user))) : [];
  const users = covered.map(userFingerprint).join(',');
  // An AccessReview's decisions (its spec) can end any User's grant.
  return [versions(world.bindings), versions(world.roles), versions(world.systems), versions(world.reviews ?? []), users, JSON.stringify(capabilities)].join(
    '|',
  );
}

/** A User's part of the fingerprint, kept per object: the store hands out one frozen object per version. */
const userFingerprints = new WeakMap<User, string>();
function userFingerprint(user: User): string {
  let fingerprint = userFingerprints.get(user);
  if (fingerprint === undefined) {
    fingerprint = `${user.metadata.uid}@${user.metadata.generation}:${JSON.stringify(user.metadata.labels ?? {})}`;
    userFingerprints.set(user, fingerprint);
  }
  return fingerprint;
}

/** Without a cached observation, what the User's status recorded is enough to tell a deprovision. */
function recordedAccount(system: ConnectedSystem, user: User): ObservedAccount | undefined {
  const recorded = user.status?.accounts?.find((a) => a.system === system.metadata.name);
  if (recorded?.state !== 'present' && recorded?.state !== 'disabled') return undefined;
  return { userName: user.spec.userName, id: recorded.id ?? '', state: recorded.state, attributes: {}, entitlements: recorded.entitlements ?? [] };
}
