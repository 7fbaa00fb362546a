// Whether a binding's approval is in force. The admission policy (src/api/admission-policy.ts)
// checks who may approve when the approval is written; this checks, on every read, that the
// approval still covers the binding as it is now, so an edit after approval voids it even where no
// admission policy runs (rollcall run --manifests).
import type { AccessBinding, User } from '../api/index.ts';
import { instant } from './instant.ts';

export type ApprovalStateName = 'NotRequired' | 'Pending' | 'Granted' | 'Voided';

export interface ApprovalState {
  state: ApprovalStateName;
  approvedBy?: string;
  message: string;
}

/** The binding-wide verdict on its approval, for a role that requires one or not. */
export function approvalState(binding: AccessBinding, requiresApproval: boolean): ApprovalState {
  if (!requiresApproval) return { state: 'NotRequired', message: 'the role requires no approval' };
  const approval = binding.spec.approval;
  if (!approval) return { state: 'Pending', message: `role ${binding.spec.role} requires approval by someone holding the verb approve on accessbindings` };
  const approvedBy = approval.approvedBy;
  const voided = (message: string): ApprovalState => ({ state: 'Voided', approvedBy, message });
  if (!binding.spec.requestedBy) return voided('the binding records no requestedBy, so the approval cannot be told apart from a self-approval');
  if (approvedBy === binding.spec.requestedBy) return voided(`${approvedBy} requested this access and cannot approve it`);
  if (binding.spec.users?.includes(approvedBy)) return voided(`${approvedBy} is a subject of this binding and cannot approve it`);
  const changed = scopeChanges(binding);
  if (changed.length > 0) return voided(`${changed.join(', ')} changed after ${approvedBy} approved`);
  return { state: 'Granted', approvedBy, message: `approved by ${approvedBy}` };
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

/** A granted approval, except for the approver's own access when a selector reaches them. */
export function approvedFor(state: ApprovalState, user: User): boolean {
  if (state.state === 'NotRequired') return true;
  if (state.state !== 'Granted') return false;
  return state.approvedBy !== user.spec.userName && state.approvedBy !== user.metadata.name;
}

/** The approval scope to write when approving the binding as it is now (what `rollcall approve` sends). */
export function scopeOf(binding: AccessBinding): NonNullable<AccessBinding['spec']['approval']>['scope'] {
  const { role, users, userSelector, validFrom, validUntil } = binding.spec;
  return { role, users, userSelector, validFrom, validUntil };
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
