// The pure engine: desired accounts, plans, orphans, guard and time windows. No I/O, no clock.
export { parseDuration, parsePeriod } from './duration.ts';
export { matchesSelector } from './selector.ts';
export { namespaceOf, sameTenant } from './tenant.ts';
export { resolveRole, type ResolvedRole } from './roles.ts';
export { approvalState, approvedFor, approvalOf, scopeChanges, scopeOf, type ApprovalState, type ApprovalStateName } from './approval.ts';
export { approvalContent, contentChanges, contentDigest, describeContent, type ApprovalContent, type ApprovedUser } from './approval-content.ts';
export { isPerson, personKey, samePerson } from './identity.ts';
export { applicableBindings, bindingSelectsUser, bindingWindow, inForce, type ApplicableBinding } from './binding.ts';
export { userEntitled, userNotYetValid, heldSystems, effectiveState } from './user.ts';
export { accountAttributes, attributeFields } from './attributes.ts';
export { deprovisionedState, deleteAfterRetentionAt } from './deprovision.ts';
export { desiredAccounts, activeSystems, grantsInForce } from './desired.ts';
export { globMatches, globPattern, splitAllowed, type EntitlementKey } from './allowed.ts';
export { ambiguousEntitlements, entitlementKeyOf, holdsEntitlement, inDeclaredSpelling, sameAttributeValue, type Ambiguity } from './comparison.ts';
export { planChanges, planAccount, entitlementChanges, attributeChanges, revokeAll } from './plan.ts';
export { decideOwnership, type OwnershipDecision } from './ownership.ts';
export { passOrphans, planOrphans, type OrphanPolicy, type OrphanPlan } from './orphans.ts';
export { nextRetentionEnd, planRetention, retentionEntry, type RetainedAccount, type RetentionPlan } from './retention.ts';
export {
  APPROVE_DEPROVISION_ANNOTATION,
  approvedDeprovisionCount,
  checkDeletionGuard,
  deletionLimit,
  deprovisionCount,
  deprovisionedUserNames,
  takesAccess,
  type DeletionGuard,
  type LimitInput,
  type GuardVerdict,
} from './guard.ts';
export { guardBase } from './guard-base.ts';
export {
  decideGuard,
  decideSystemGuard,
  guardTripped,
  type GuardDecision,
  type GuardInput,
  type RecentDeprovision,
  type SystemGuardInput,
} from './system-guard.ts';
export { deprovisionsOnDeletion, planSystemDeletion, type DeletionAccountPlan } from './system-deletion.ts';
export { DEFAULT_INITIAL_PASSWORD_TTL, dueDeliveries, initialPasswordDecision, type InitialPasswordDecision } from './initial-password.ts';
export { accessWindow, type AccessWindow } from './window.ts';
export { isLeaving, withDeprovisionClock, isRestoringDeprovision } from './leaving.ts';
export {
  planAccountFor,
  accountPlan,
  planOptions,
  planSystemPass,
  type AccountPlan,
  type EntitlementRefusal,
  type Refusal,
  type SystemPass,
  type SystemPassInput,
  type World,
} from './pass.ts';
export { auditSystem, FINDING_KINDS, type AuditInput, type Finding, type FindingKind } from './audit.ts';
export { changeCause, orphanCause, retentionCause, systemDeletionCause, type Cause, type CauseKind } from './cause.ts';
export { reviewCovers, reviewVerdict, reviewRevocation, nextDue, type Decision, type ReviewVerdict } from './review.ts';
export { holdingUsers, userNameHolders, userNameTakenBy } from './username-claims.ts';
