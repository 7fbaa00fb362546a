// Access reviews in the engine: which grants a campaign covers, what was decided on each, and when
// a revoke takes the access away. A revoked grant ends like an expired one, so the normal
// lifecycle (plan, guard, deprovision) removes it: a reviewer decides, the engine does the rest.
import type { AccessBinding, AccessReview, User } from '../api/index.ts';
import { instant } from './instant.ts';
import type { ResolvedRole } from './roles.ts';
import { matchesSelector } from './selector.ts';
import { namespaceOf } from './tenant.ts';

export type Decision = 'keep' | 'revoke';

export interface ReviewVerdict {
  review: string;
  decision: Decision;
  /** The reviewer, or "default" when the due date decided. */
  decidedBy: string;
  /** Epoch ms from which the decision holds: undefined for a reviewer's decision (at once), the due date for the default. */
  from: number | undefined;
}

/**
 * The review covers this grant: same namespace, the binding existed when the review was created,
 * and the role, systems and User match its scope.
 */
export function reviewCovers(review: AccessReview, binding: AccessBinding, role: ResolvedRole, user: User): boolean {
  if (namespaceOf(review) !== namespaceOf(binding) || namespaceOf(review) !== namespaceOf(user)) return false;
  const created = instant(binding.metadata.creationTimestamp);
  const started = instant(review.metadata.creationTimestamp);
  if (created !== undefined && started !== undefined && created > started) return false;
  const { roles, systems, userSelector } = review.spec.scope;
  if (roles && !roles.includes(binding.spec.role)) return false;
  if (systems && !systems.some((system) => role.grants.has(system))) return false;
  if (userSelector && !matchesSelector(userSelector, user.metadata.labels)) return false;
  return true;
}

/**
 * What the review decided on this grant: the last decision of a listed reviewer who is not the
 * User (the admission policy refuses the rest; this keeps standalone mode equal), else the
 * default once the due date has come (reported with `from`, so the engine can wake up for it).
 */
export function reviewVerdict(review: AccessReview, binding: AccessBinding, role: ResolvedRole, user: User): ReviewVerdict | undefined {
  if (!reviewCovers(review, binding, role, user)) return undefined;
  const own = new Set([user.metadata.name, user.spec.userName]);
  const decided = (review.spec.decisions ?? []).filter(
    (d) => d.user === user.metadata.name && d.binding === binding.metadata.name && review.spec.reviewers.includes(d.decidedBy) && !own.has(d.decidedBy),
  );
  const last = decided.at(-1);
  const name = review.metadata.name;
  if (last) return { review: name, decision: last.decision, decidedBy: last.decidedBy, from: undefined };
  return { review: name, decision: review.spec.defaultDecision, decidedBy: 'default', from: instant(review.spec.dueDate) };
}

/** The earliest revoke among the reviews, with the instant the grant ends (a reviewer's revoke: since the review started), or undefined. */
export function reviewRevocation(
  reviews: readonly AccessReview[],
  binding: AccessBinding,
  role: ResolvedRole,
  user: User,
): (ReviewVerdict & { endsAt: number }) | undefined {
  let found: (ReviewVerdict & { endsAt: number }) | undefined;
  for (const review of reviews) {
    const verdict = reviewVerdict(review, binding, role, user);
    if (verdict?.decision !== 'revoke') continue;
    const endsAt = verdict.from ?? instant(review.metadata.creationTimestamp) ?? 0;
    if (!found || endsAt < found.endsAt) found = { ...verdict, endsAt };
  }
  return found;
}

/** The first due date `due + k × period` (k ≥ 1) after `now`: the next campaign, whatever was missed. */
export function nextDue(dueMs: number, periodMs: number, nowMs: number): Date {
  const missed = nowMs > dueMs ? Math.floor((nowMs - dueMs) / periodMs) : 0;
  return new Date(dueMs + (missed + 1) * periodMs);
}
