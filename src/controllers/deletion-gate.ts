// The deletion guard on the reconcile path. The decision is the engine's (decideGuard); this keeps
// what it needs between reconciles: the decision per system until the declared world changes (so a
// mass change is counted once, not once per User), the system's record of recent deprovisions
// (seeded from, and written back to, its status so it survives restarts and leader changes), and
// which tripped count each system has already announced.
import type { Capabilities, ConnectedSystem, ObservedAccount, User } from '../api/index.ts';
import { accountPlan, decideGuard, desiredAccounts, guardTripped, parseDuration, withDeprovisionClock, type GuardDecision, type RecentDeprovision } from '../engine/index.ts';
import { keyOf, keyString } from '../store/store.ts';
import type { ControllerContext } from './context.ts';
import type { ObservedCache } from './observed-cache.ts';
import { readWorld } from './world.ts';

export class DeletionGate {
  readonly #decisions = new Map<string, { orphanDeprovisions: number; decision: GuardDecision }>();
  readonly #recent = new Map<string, RecentDeprovision[]>();
  readonly #announced = new Map<string, number>();

  /** The guard's decision for the system's current pass. `orphanDeprovisions`: what the orphan policy adds. */
  decide(ctx: ControllerContext, system: ConnectedSystem, capabilities: Capabilities, orphanDeprovisions = 0): GuardDecision {
    const key = keyString(keyOf(system));
    const memo = this.#decisions.get(key);
    if (memo && memo.orphanDeprovisions === orphanDeprovisions) return memo.decision;
    const now = ctx.clock.now();
    const { pending, managed } = system.spec.deletionGuard ? pendingDeprovisions(ctx, system, capabilities, now) : { pending: [], managed: 0 };
    const decision = decideGuard({ system, pending, orphanDeprovisions, recent: this.recent(system), managed, tripped: guardTripped(system), now });
    this.#decisions.set(key, { orphanDeprovisions, decision });
    return decision;
  }

  /**
   * An account is about to be disabled or deleted: it joins the window now, before the write, so
   * reconciles running beside this one count it whatever their order.
   */
  record(system: ConnectedSystem, userName: string, now: Date): void {
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

  /** Records the guard's state as announced; true only when it just tripped (emit the Event once). */
  announce(systemKey: string, decision: GuardDecision): boolean {
    const before = this.#announced.has(systemKey);
    if (decision.verdict.tripped) this.#announced.set(systemKey, decision.verdict.count);
    else this.#announced.delete(systemKey);
    return decision.verdict.tripped && !before;
  }

  /** Whether the system's condition already shows this tripped count. */
  isAnnounced(systemKey: string, count: number): boolean {
    return this.#announced.get(systemKey) === count;
  }

  /** Forget decisions: the declared world changed (any watch event), or a system was re-listed. */
  reset(system?: ConnectedSystem): void {
    if (system) this.#decisions.delete(keyString(keyOf(system)));
    else this.#decisions.clear();
  }

  /** A system that is gone takes its record with it. */
  forget(systemKey: string): void {
    this.#decisions.delete(systemKey);
    this.#recent.delete(systemKey);
    this.#announced.delete(systemKey);
  }
}

/** Users of the system's namespace whose account the engine would disable or delete now, and the managed count. */
function pendingDeprovisions(ctx: ControllerContext, system: ConnectedSystem, capabilities: Capabilities, now: Date): { pending: string[]; managed: number } {
  const systemKey = keyString(keyOf(system));
  const world = readWorld(ctx.store, keyOf(system).namespace);
  const pending: string[] = [];
  let holders = 0;
  for (const user of ctx.store.list('User', keyOf(system).namespace)) {
    const observed = observedOrRecorded(ctx.observed, systemKey, system, user);
    if (!observed) continue; // nothing held there: nothing to deprovision
    holders++;
    const seen = withDeprovisionClock(user, now);
    const desired = desiredAccounts(seen, world.bindings, world.roles, [system], now)[0];
    if (desired && accountPlan(seen, desired, observed, capabilities).deprovisions) pending.push(user.spec.userName);
  }
  const managed = ctx.observed.has(systemKey) ? ctx.observed.accounts(systemKey).length : holders;
  return { pending, managed };
}

/** The cached observation, else what the User's status recorded (enough to tell a deprovision). */
function observedOrRecorded(cache: ObservedCache, systemKey: string, system: ConnectedSystem, user: User): ObservedAccount | undefined {
  const cached = cache.get(systemKey, user.spec.userName);
  if (cached !== undefined) return cached ?? undefined;
  const recorded = user.status?.accounts?.find((a) => a.system === system.metadata.name);
  if (recorded?.state !== 'present' && recorded?.state !== 'disabled') return undefined;
  return { userName: user.spec.userName, id: recorded.id ?? '', state: recorded.state, attributes: {}, entitlements: recorded.entitlements ?? [] };
}
