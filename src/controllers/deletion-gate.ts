// The deletion guard on the reconcile path: before any User's account is disabled or deleted, count
// every deprovision the system has pending right now (all Users of its namespace, plus orphans)
// plus those it already made within the last resyncInterval, and hold them all if that exceeds
// spec.deletionGuard. So a mass termination (a bad HR feed, a namespace's worth of Users deleted)
// is stopped as a whole, whether its changes arrive at once or one watch event at a time.
// Deprovisions in a guarded system also wait until the pending count has stopped growing for a
// moment (settleMs), so a burst that arrives one watch event at a time is judged as one pass.
import type { AccountStatus, ConnectedSystem, DesiredAccount } from '../api/index.ts';
import { approvedDeprovisionCount, checkDeletionGuard, desiredAccounts, parseDuration, type GuardVerdict } from '../engine/index.ts';
import { keyOf, keyString } from '../store/store.ts';
import type { ControllerContext } from './context.ts';
import { isLeaving, readWorld, withDeprovisionClock } from './world.ts';

export interface GateVerdict {
  verdict: GuardVerdict;
  /** The pass is within the limit without any approval: an approval annotation has done its job. */
  withinLimit: boolean;
  /** The pending count grew a moment ago: deprovisions wait until then, in case more arrive. */
  settlingUntil?: Date;
}

/** How long a guarded system's pending deprovisions must stop growing before any proceeds. */
export const DEFAULT_SETTLE_MS = 2000;

export class DeletionGate {
  readonly #settleMs: number;
  /** Per system: the last count seen and when it last grew. */
  readonly #growth = new Map<string, { count: number; grewAt: number }>();

  constructor(options: { settleMs?: number } = {}) {
    this.#settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  }

  /** Verdicts are reused until the declared world changes (reset), so a mass change is counted once, not once per User. */
  readonly #memo = new Map<string, { extra: number; result: GateVerdict }>();
  /** When each system's recent deprovisions happened. */
  readonly #recent = new Map<string, number[]>();
  /**
   * The count each system's tripped guard was last announced with (in its condition), remembered
   * here rather than read back from a status cache that may lag.
   */
  readonly #announced = new Map<string, number>();

  /** Records the guard's state as announced; true only when it just tripped (emit the Event once). */
  announce(systemKey: string, verdict: GuardVerdict): boolean {
    const before = this.#announced.has(systemKey);
    if (verdict.tripped) this.#announced.set(systemKey, verdict.count);
    else this.#announced.delete(systemKey);
    return verdict.tripped && !before;
  }

  /** Whether the system's condition already shows this tripped count. */
  isAnnounced(systemKey: string, count: number): boolean {
    return this.#announced.get(systemKey) === count;
  }

  /** A User's account in the system was just disabled or deleted. */
  recordDeprovision(systemKey: string, now: Date): void {
    const times = this.#recent.get(systemKey) ?? [];
    times.push(now.getTime());
    this.#recent.set(systemKey, times);
  }

  /** Whether deprovisions in this system may proceed now. `extra`: deprovisions the caller adds (orphans). */
  check(ctx: ControllerContext, system: ConnectedSystem, extra = 0): GuardVerdict {
    return this.evaluate(ctx, system, extra).verdict;
  }

  evaluate(ctx: ControllerContext, system: ConnectedSystem, extra = 0): GateVerdict {
    if (!system.spec.deletionGuard) return { verdict: { tripped: false }, withinLimit: true };
    const key = keyString(keyOf(system));
    const now = ctx.clock.now();
    const memo = this.#memo.get(key);
    if (memo && memo.extra === extra) return memo.result;
    const { pending, managed } = this.#pending(ctx, system, now);
    const count = pending + extra + this.#recentCount(key, now.getTime() - parseDuration(system.spec.resyncInterval));
    const approved = approvedDeprovisionCount(system.metadata.annotations);
    const input = { count, managed, guard: system.spec.deletionGuard };
    // An approval covers the pass it was given for while that pass drains: its count only shrinks.
    const verdict = checkDeletionGuard({ ...input, approvedCount: approved !== undefined && count <= approved ? count : approved });
    const result: GateVerdict = { verdict, withinLimit: !checkDeletionGuard({ ...input, approvedCount: undefined }).tripped };
    const last = this.#growth.get(key);
    const grewAt = !last || count > last.count ? now.getTime() : last.grewAt;
    this.#growth.set(key, { count, grewAt });
    if (now.getTime() < grewAt + this.#settleMs) result.settlingUntil = new Date(grewAt + this.#settleMs);
    this.#memo.set(key, { extra, result });
    return result;
  }

  #recentCount(systemKey: string, since: number): number {
    const times = (this.#recent.get(systemKey) ?? []).filter((t) => t >= since);
    this.#recent.set(systemKey, times);
    return times.length;
  }

  /** Forget verdicts: the declared world changed (any watch event), or a system was re-listed. */
  reset(system?: ConnectedSystem): void {
    if (system) this.#memo.delete(keyString(keyOf(system)));
    else this.#memo.clear();
  }

  #pending(ctx: ControllerContext, system: ConnectedSystem, now: Date): { pending: number; managed: number } {
    const { namespace } = keyOf(system);
    const systemKey = keyString(keyOf(system));
    const world = readWorld(ctx.store, namespace);
    let pending = 0;
    let holders = 0;
    for (const user of ctx.store.list('User', namespace)) {
      const recorded = user.status?.accounts?.find((a) => a.system === system.metadata.name);
      const cached = ctx.observed.get(systemKey, user.spec.userName);
      const observedState = cached === undefined ? recorded?.state : (cached?.state ?? 'absent');
      if (observedState === 'present' || observedState === 'disabled') holders++;
      if (!isLeaving(user, now) && observedState !== 'present') continue;
      const desired: DesiredAccount | undefined = desiredAccounts(withDeprovisionClock(user, now), world.bindings, world.roles, [system], now)[0];
      if (!desired || isRestoringDeprovision(recorded, desired)) continue;
      if ((desired.state === 'disabled' && observedState === 'present') || (desired.state === 'absent' && (observedState === 'present' || observedState === 'disabled'))) pending++;
    }
    const managed = ctx.observed.has(systemKey) ? ctx.observed.accounts(systemKey).length : holders;
    return { pending, managed };
  }
}

/**
 * Rollcall already deprovisioned this account (its status says so) and someone undid it by hand:
 * putting it back is drift correction, not a new loss of access, so the guard neither counts nor holds it.
 */
export function isRestoringDeprovision(recorded: AccountStatus | undefined, desired: DesiredAccount): boolean {
  return desired.state !== 'present' && recorded?.state === desired.state;
}
