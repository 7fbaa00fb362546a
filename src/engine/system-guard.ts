// The deletion guard's decision for one system's pass, with its inputs gathered in one place:
// the accounts the pass would take access from (the Users' plans, the orphans, a deleted system's
// accounts, retention ends), those it took within the window, and the base of the percentage.
// `rollcall plan` (planSystemPass) and the reconcilers (DeletionGate) both decide through
// decideSystemGuard, so what plan counts is what run counts. The limit itself is guard.ts's.
import type { ConnectedSystem, User } from '../api/index.ts';
import { parseDuration } from './duration.ts';
import { approvedDeprovisionCount, checkDeletionGuard, deletionLimit, type GuardVerdict } from './guard.ts';
import { guardBase, type DistinctNames } from './guard-base.ts';

export interface SystemGuardInput {
  system: ConnectedSystem;
  /** The Users of the system's namespace: the base leaves out accounts of Users created within the window (guardBase). */
  users: readonly User[];
  /** userNames of the accounts in the managed scope: the listing, or before one, the accounts the Users hold. */
  accounts: Iterable<string> | DistinctNames;
  /** userNames whose account the pass would take access from: the Users' (AccountPlan.deprovisions), a deleted system's, retention ends. */
  pending: Iterable<string>;
  /** userNames of the orphans the orphan policy would disable, delete or revoke from. */
  orphans?: Iterable<string>;
  /** The system's deprovision record (status.recentDeprovisions and any made since). */
  recent: readonly RecentDeprovision[];
  /**
   * The base (guardBase of `accounts` and `users`), when the caller keeps it between decisions (the
   * deletion guard, which counts it the same way from what changed): `users` is then not walked.
   */
  managed?: number;
  now: Date;
}

/** The guard's decision for one system's pass, from everything it weighs. */
export function decideSystemGuard({ system, users, accounts, pending, orphans, recent, managed, now }: SystemGuardInput): GuardDecision {
  return decideGuard({
    system,
    pending,
    orphanUserNames: orphans,
    recent,
    managed: managed ?? guardBase(system, accounts, users, now),
    tripped: guardTripped(system),
    now,
  });
}

/** One deprovision (disable, delete or revoke) the system made, kept in its status for the guard's window. */
export interface RecentDeprovision {
  userName: string;
  at: string;
}

export interface GuardInput {
  system: ConnectedSystem;
  /** userNames this pass would take access from (AccountPlan.deprovisions). */
  pending: Iterable<string>;
  /** Orphans this pass would disable, delete or revoke from, by userName: one already in the window counts once. */
  orphanUserNames?: Iterable<string>;
  /** The system's deprovision record (status.recentDeprovisions and any made since). */
  recent: readonly RecentDeprovision[];
  /** Accounts in the managed scope that the percentage counts (guardBase): the base of maxPercent. */
  managed: number;
  /** The system's status shows the guard tripped (DeletionGuardTripped=True). */
  tripped: boolean;
  now: Date;
}

export interface GuardDecision {
  /** Distinct accounts pending or deprovisioned within the window, plus orphans. */
  count: number;
  managed: number;
  limit: number;
  verdict: GuardVerdict;
  /** The pass is within the limit without any approval: an approval annotation has done its job. */
  withinLimit: boolean;
  /** The record pruned to the window (resyncInterval back from now): what status should keep. */
  recent: RecentDeprovision[];
}

/**
 * The deletion guard's verdict for one pass. An account deprovisioned a moment ago and one about
 * to be count alike, so a burst is judged as a whole whether it arrives at once or one event at a
 * time: once the total would exceed the limit, every further deprovision is held until a person
 * approves (`rollcall.dev/approve-deprovision: "<count>"`); those within the limit are never delayed.
 */
export function decideGuard({ system, pending, orphanUserNames = [], recent, managed, tripped, now }: GuardInput): GuardDecision {
  const since = now.getTime() - parseDuration(system.spec.resyncInterval);
  const inWindow = recent.filter((entry) => Date.parse(entry.at) >= since);
  const pendingNow = new Set([...pending, ...orphanUserNames]);
  const latched = tripped && pendingNow.size > 0;
  const accounts = new Set(pendingNow);
  for (const entry of inWindow) accounts.add(entry.userName);
  const count = accounts.size;
  const guard = system.spec.deletionGuard;
  const approved = approvedDeprovisionCount(system.metadata.annotations);
  // An approval covers the pass it was given for while that pass drains: its count only shrinks.
  const verdict = checkDeletionGuard({ count, managed, guard, latched, approvedCount: approved !== undefined && count <= approved ? count : approved });
  const withinLimit = !checkDeletionGuard({ count, managed, guard, approvedCount: undefined }).tripped;
  return { count, managed, limit: deletionLimit(guard, managed), verdict, withinLimit, recent: inWindow };
}

/** The system's status shows its deletion guard tripped: it holds until approved (GuardInput.latched). */
export function guardTripped(system: ConnectedSystem): boolean {
  return system.status?.conditions?.some((c) => c.type === 'DeletionGuardTripped' && c.status === 'True') ?? false;
}
