// Whether a binding's approval is in force. The admission policy (src/api/admission-policy.ts)
// checks who may approve when the approval is written; this checks, on every read, that the
// approval still covers the binding as it is now, so an edit after approval voids it even where no
// admission policy runs (rollcall run --manifests). "As it is now" is the binding's fields (the
// approval's scope) and its content (src/engine/approval-content.ts): the role's effective
// entitlements and maxDuration and the selected Users by uid and userName, pinned by the digest the
// approver wrote. Approver, requester and subjects are compared as people (src/engine/identity.ts).
import type { AccessBinding, AccessRole, User } from '../api/index.ts';
import { approvalContent, contentChanges, contentDigest, type ApprovalContent } from './approval-content.ts';
import { instant } from './instant.ts';
import { isPerson, samePerson } from './identity.ts';
import { resolveRole } from './roles.ts';
import { namespaceOf, sameTenant } from './tenant.ts';

export type ApprovalStateName = 'NotRequired' | 'Pending' | 'Granted' | 'Voided';

export interface ApprovalState {
  state: ApprovalStateName;
  approvedBy?: string;
  message: string;
  /** The binding's content now and its digest (when its role requires approval): what an approval would have to pin. */
  content?: ApprovalContent;
  digest?: string;
}

type Approval = NonNullable<AccessBinding['spec']['approval']>;

// One verdict per binding, whatever the number of Users asking: the store hands out frozen objects,
// replaced on every change, so the same objects (even in a list filtered anew) give the same verdict.
// Comparing the lists element by element is far cheaper than the content and its digest.
const memo = new WeakMap<AccessBinding, { roles: readonly AccessRole[]; users: readonly User[]; state: ApprovalState }>();

function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  return a === b || (a.length === b.length && a.every((item, i) => item === b[i]));
}

/**
 * The binding-wide verdict on its approval. `roles` and `users`: the binding's namespace (the
 * content is computed from them).
 */
export function approvalState(binding: AccessBinding, roles: readonly AccessRole[], users: readonly User[]): ApprovalState {
  // Most roles need no approval: decided without looking at the Users, which would cost O(Users) for
  // every User's reconcile (O(Users²) for a namespace's pass) only to find nothing to approve.
  if (!resolveRole(binding.spec.role, roles)?.requiresApproval) return NOT_REQUIRED;
  const cached = memo.get(binding);
  if (cached && sameElements(cached.roles, roles) && sameElements(cached.users, users)) return cached.state;
  const state = decide(binding, roles, sameTenant(binding, users));
  memo.set(binding, { roles, users, state });
  return state;
}

const NOT_REQUIRED: ApprovalState = { state: 'NotRequired', message: 'the role requires no approval' };

/** The verdict for a binding whose role requires approval; `users`: the binding's namespace. */
function decide(binding: AccessBinding, roles: readonly AccessRole[], users: readonly User[]): ApprovalState {
  const content = approvalContent(binding, roles, users)!;
  const digest = contentDigest(content);
  const approval = binding.spec.approval;
  if (!approval) {
    return {
      state: 'Pending',
      content,
      digest,
      message: `role ${binding.spec.role} requires approval by someone holding the verb approve on accessbindings (the content to approve has digest ${digest})`,
    };
  }
  const approvedBy = approval.approvedBy;
  const voided = (message: string): ApprovalState => ({ state: 'Voided', approvedBy, content, digest, message });
  const refusal = approverRefusal(binding, approval, users);
  if (refusal) return voided(refusal);
  const changed = scopeChanges(binding);
  if (changed.length > 0) return voided(`${changed.join(', ')} changed after ${approvedBy} approved`);
  if (!approval.digest)
    return voided(
      `the approval records no spec.approval.digest of the content ${approvedBy} approved: approve again with kubectl rollcall approve (the content now has digest ${digest})`,
    );
  if (approval.digest !== digest) return voided(`${contentChangesSince(binding, approval, content).join('; ')} since ${approvedBy} approved`);
  return { state: 'Granted', approvedBy, content, digest, message: `approved by ${approvedBy}` };
}

/** Why this approver may not approve this binding at all, compared as people; undefined when they may. */
function approverRefusal(binding: AccessBinding, approval: Approval, users: readonly User[]): string | undefined {
  const { approvedBy } = approval;
  const requester = binding.spec.requestedBy;
  if (!requester) return 'the binding records no requestedBy, so the approval cannot be told apart from a self-approval';
  if (samePerson(approvedBy, requester)) return `${approvedBy} requested this access (as ${requester}) and cannot approve it`;
  for (const name of binding.spec.users ?? []) {
    const user = users.find((u) => u.metadata.name === name && namespaceOf(u) === namespaceOf(binding));
    if (samePerson(approvedBy, name) || (user && isPerson(approvedBy, user)))
      return `${approvedBy} is a subject of this binding (User ${name}) and cannot approve it`;
  }
  return undefined;
}

/** What changed, named from the content Rollcall recorded for this approval (status.approval), or said in general. */
function contentChangesSince(binding: AccessBinding, approval: Approval, current: ApprovalContent): string[] {
  const recorded = binding.status?.approval;
  if (recorded && recorded.digest === approval.digest && recorded.content) {
    const changes = contentChanges(recorded.content, current, namespaceOf(binding));
    if (changes.length > 0) return changes;
  }
  return [
    `the role's entitlements or maxDuration, or the Users selected, differ from the content approved (digest ${approval.digest}, now ${contentDigest(current)})`,
  ];
}

/** The fields of the binding that differ from what its approval approved. */
export function scopeChanges(binding: AccessBinding): string[] {
  const scope = binding.spec.approval?.scope;
  if (!scope) return [];
  const spec = binding.spec;
  const changed: string[] = [];
  if (scope.role !== spec.role) changed.push('role');
  if (!sameList(scope.users, spec.users)) changed.push('users');
  if (canonical(scope.userSelector) !== canonical(spec.userSelector)) changed.push('userSelector');
  if (instant(scope.validFrom) !== instant(spec.validFrom)) changed.push('validFrom');
  if (instant(scope.validUntil) !== instant(spec.validUntil)) changed.push('validUntil');
  return changed;
}

/** A granted approval, except for the approver's own access (in any of their names) when a selector reaches them. */
export function approvedFor(state: ApprovalState, user: User): boolean {
  if (state.state === 'NotRequired') return true;
  if (state.state !== 'Granted') return false;
  return !isPerson(state.approvedBy!, user);
}

/** The approval scope to write when approving the binding as it is now (what `rollcall approve` sends). */
export function scopeOf(binding: AccessBinding): Approval['scope'] {
  const { role, users, userSelector, validFrom, validUntil } = binding.spec;
  return { role, users, userSelector, validFrom, validUntil };
}

/** The approval to write for `approvedBy` approving the binding as it stands, content included. */
export function approvalOf(binding: AccessBinding, roles: readonly AccessRole[], users: readonly User[], approvedBy: string, approvedAt?: string): Approval {
  const content = approvalContent(binding, roles, users);
  return { approvedBy, ...(approvedAt ? { approvedAt } : {}), scope: scopeOf(binding), ...(content ? { digest: contentDigest(content) } : {}) };
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const left = a ?? [];
  const right = b ?? [];
  return left.length === right.length && left.every((value, i) => value === right[i]);
}

/** JSON with sorted keys, so two selectors written in another order compare equal. */
function canonical(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
