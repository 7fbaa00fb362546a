// When an AccessBinding gives its role to a User: who it selects, from when, until when, and whether approved.
import type { AccessBinding, AccessReview, AccessRole, User } from '../api/index.ts';
import { approvalState, approvedFor, type ApprovalState } from './approval.ts';
import { instant, within } from './instant.ts';
import { reviewRevocation, type ReviewVerdict } from './review.ts';
import { resolveRole, type ResolvedRole } from './roles.ts';
import { matchesSelector } from './selector.ts';
import { namespaceOf } from './tenant.ts';

/** A binding that selects the user, with its role resolved and its effective time window. */
export interface ApplicableBinding {
  binding: AccessBinding;
  role: ResolvedRole;
  /** Epoch ms; undefined means "since always". */
  startsAt: number | undefined;
  /** Epoch ms, after the maxDuration cap; undefined means "no end". */
  endsAt: number | undefined;
  approved: boolean;
  approval: ApprovalState;
  /** An access review revoked this grant; endsAt is capped at the revocation. */
  revokedBy?: ReviewVerdict;
}

/** Same namespace, and names the User (by metadata.name) or selects it by label. */
export function bindingSelectsUser(binding: AccessBinding, user: User): boolean {
  if (namespaceOf(binding) !== namespaceOf(user)) return false;
  if (binding.spec.users?.includes(user.metadata.name)) return true;
  const selector = binding.spec.userSelector;
  return selector !== undefined && matchesSelector(selector, user.metadata.labels);
}

/**
 * The binding's window: [validFrom, validUntil), with the end capped at maxDuration counted from
 * validFrom, or from the binding's creation when it has no validFrom (else a binding without dates
 * would escape the cap).
 */
export function bindingWindow(binding: AccessBinding, role: ResolvedRole): { startsAt: number | undefined; endsAt: number | undefined } {
  const startsAt = instant(binding.spec.validFrom);
  let endsAt = instant(binding.spec.validUntil);
  if (role.maxDurationMs !== undefined) {
    const capFrom = startsAt ?? instant(binding.metadata.creationTimestamp);
    if (capFrom !== undefined) {
      const cap = capFrom + role.maxDurationMs;
      endsAt = endsAt === undefined ? cap : Math.min(endsAt, cap);
    }
  }
  return { startsAt, endsAt };
}

/**
 * Bindings (of the user's namespace) that select the user and whose role exists, in force or not.
 * `users`: the namespace's Users, which decide whether an approval still covers what the binding
 * selects (left out, only this User is seen, and an approval of several Users is void: never more
 * access for a missing input).
 * A grant an access review revoked ends at the revocation (at once for a reviewer's decision, at the
 * due date for the default).
 */
export function applicableBindings(
  user: User,
  bindings: readonly AccessBinding[],
  roles: readonly AccessRole[],
  reviews: readonly AccessReview[] = [],
  users: readonly User[] = [user],
): ApplicableBinding[] {
  const result: ApplicableBinding[] = [];
  for (const binding of bindings) {
    if (!bindingSelectsUser(binding, user)) continue;
    const role = resolveRole(binding.spec.role, roles);
    if (role === undefined) continue;
    const approval = approvalState(binding, roles, users);
    const window = bindingWindow(binding, role);
    const revoked = reviewRevocation(reviews, binding, role, user);
    const applicable: ApplicableBinding = { binding, role, ...window, approved: approvedFor(approval, user), approval };
    if (revoked) {
      const { endsAt, ...verdict } = revoked;
      applicable.revokedBy = verdict;
      applicable.endsAt = Math.min(window.endsAt ?? Number.POSITIVE_INFINITY, endsAt);
    }
    result.push(applicable);
  }
  return result;
}

/** In force at `now`: approved when approval is required, and inside its window. */
export function inForce(applicable: ApplicableBinding, now: number): boolean {
  return applicable.approved && within(now, applicable.startsAt, applicable.endsAt);
}
