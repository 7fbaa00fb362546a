// The AccessBinding reconciler: says in status whether the grant is in force, whom it reaches,
// when it ends, and why not (PendingApproval, Expired, missing role). Granting itself happens in
// the User reconciler; this only keeps `kubectl get abind` and `kubectl describe` truthful.
import type { AccessBinding, Condition, User } from '../api/index.ts';
import { approvalState, bindingSelectsUser, bindingWindow, describeContent, resolveRole, type ApprovalState } from '../engine/index.ts';
import { setCondition, statusEqual } from '../api/conditions.ts';
import type { ControllerContext } from './context.ts';
import type { Reconciler } from './reconciler.ts';

type ConditionUpdate = { type: string; status: Condition['status']; reason: string; message: string };

export function bindingReconciler(ctx: ControllerContext): Reconciler {
  return async (key) => {
    const binding = ctx.store.get('AccessBinding', key);
    if (!binding) return {};
    const now = ctx.clock.now();
    const roles = ctx.store.list('AccessRole', key.namespace);
    const users = ctx.store.list('User', key.namespace);
    const role = resolveRole(binding.spec.role, roles);
    const subjects = subjectCount(ctx, binding, users);
    const window = role ? bindingWindow(binding, role) : { startsAt: undefined, endsAt: undefined };
    const approval = approvalState(binding, roles, users);
    const pendingApproval = approval.state === 'Pending' || approval.state === 'Voided';
    const expired = window.endsAt !== undefined && now.getTime() >= window.endsAt;
    const notYet = window.startsAt !== undefined && now.getTime() < window.startsAt;

    const updates: ConditionUpdate[] = [
      {
        type: 'PendingApproval',
        status: pendingApproval ? 'True' : 'False',
        reason:
          approval.state === 'Voided' ? 'ApprovalVoided' : pendingApproval ? 'ApprovalRequired' : approval.state === 'Granted' ? 'Approved' : 'NotRequired',
        message: approval.message,
      },
      {
        type: 'Expired',
        status: expired ? 'True' : 'False',
        reason: expired ? 'ValidUntilPassed' : 'InForceWindow',
        message: expired ? `ended at ${new Date(window.endsAt!).toISOString()}` : 'not expired',
      },
      ready(binding, !!role, pendingApproval, expired, notYet, window.startsAt, role ? [] : namespacesWithRole(ctx, binding)),
      ...selectsEveryUser(binding, key.namespace, subjects),
    ];
    let conditions = binding.status?.conditions;
    for (const update of updates) conditions = setCondition(conditions, update, binding.metadata.generation, now);
    const status: NonNullable<AccessBinding['status']> = { observedGeneration: binding.metadata.generation, subjects, conditions };
    if (window.endsAt !== undefined) status.accessEndsAt = new Date(window.endsAt).toISOString();
    if (role) status.approval = approvalStatus(approval, binding, now);
    if (!statusEqual(binding.status ?? {}, status)) {
      const everyone = conditions?.find((c) => c.type === 'SelectsEveryUser' && c.status === 'True');
      const wasEveryone = binding.status?.conditions?.some((c) => c.type === 'SelectsEveryUser' && c.status === 'True');
      if (everyone && !wasEveryone) await ctx.store.recordEvent('AccessBinding', binding, 'Warning', 'SelectsEveryUser', everyone.message);
      const missingRole = conditions?.find((c) => c.type === 'Ready' && c.reason === 'RoleNotFound');
      const saidMissing = binding.status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'RoleNotFound');
      if (missingRole && missingRole.message !== saidMissing?.message)
        await ctx.store.recordEvent('AccessBinding', binding, 'Warning', 'RoleNotFound', missingRole.message);
      await ctx.store.updateStatus('AccessBinding', key, status);
      await announceApproval(ctx, binding, status.approval, binding.status?.approval);
    }

    // Wake at the next edge of the window so Ready and Expired flip on time.
    const edges = [window.startsAt, window.endsAt].filter((t): t is number => t !== undefined && t > now.getTime());
    return edges.length ? { requeueAt: new Date(Math.min(...edges)) } : {};
  };
}

type ApprovalStatus = NonNullable<NonNullable<AccessBinding['status']>['approval']>;

/** The most selected Users whose names, uids and userNames status records (a few hundred bytes each at most). */
const RECORDED_USERS_MAX = 1000;

/**
 * The approval in status; approvedAt is when Rollcall first saw this approver's approval in force.
 * A granted approval records the content it pinned (digest and content), and a voided one keeps
 * that record while the approval is the same: the engine names what changed from it. The record
 * never decides anything (the digest in spec.approval does); it only says what differs.
 */
function approvalStatus(approval: ApprovalState, binding: AccessBinding, now: Date): ApprovalStatus {
  const previous = binding.status?.approval;
  const status: ApprovalStatus = { state: approval.state, message: approval.message };
  if (approval.approvedBy !== undefined) status.approvedBy = approval.approvedBy;
  if (approval.state === 'Granted') {
    const same = previous?.state === 'Granted' && previous.approvedBy === approval.approvedBy && previous.digest === approval.digest && previous.approvedAt;
    status.approvedAt = same ? previous.approvedAt : now.toISOString();
    if (approval.digest !== undefined) status.digest = approval.digest;
    // A selector of thousands of Users would outgrow the object: then only the digest is kept, and a
    // change is said without naming it.
    if (approval.content !== undefined && approval.content.users.length <= RECORDED_USERS_MAX) status.content = approval.content;
  } else if (approval.state === 'Voided' && previous?.digest !== undefined && previous.digest === binding.spec.approval?.digest) {
    status.digest = previous.digest;
    if (previous.content) status.content = previous.content;
  }
  return status;
}

/** ApprovalGranted when an approval comes into force, ApprovalVoided when one stops covering the binding. */
async function announceApproval(
  ctx: Pick<ControllerContext, 'store'>,
  binding: AccessBinding,
  current: ApprovalStatus | undefined,
  previous: ApprovalStatus | undefined,
): Promise<void> {
  if (!current) return;
  // Granted again with other content (a new approval) is announced too: it pins something else; and
  // a voided approval voided by another change (a User deleted, then recreated) says the new change.
  const changed =
    current.state !== previous?.state ||
    (current.state === 'Granted' && current.digest !== previous?.digest) ||
    (current.state === 'Voided' && current.message !== previous?.message);
  if (!changed) return;
  if (current.state === 'Granted') {
    const what = current.content ? `: ${describeContent(current.content)}` : '';
    await ctx.store.recordEvent('AccessBinding', binding, 'Normal', 'ApprovalGranted', `approved by ${current.approvedBy} at ${current.approvedAt}${what}`);
  } else if (current.state === 'Voided') {
    await ctx.store.recordEvent('AccessBinding', binding, 'Warning', 'ApprovalVoided', current.message ?? 'the approval no longer covers the binding');
  }
}

/** Namespaces other than the binding's that hold an AccessRole of the name it asks for: a likely mix-up, worth saying. */
function namespacesWithRole(ctx: Pick<ControllerContext, 'store'>, binding: AccessBinding): string[] {
  const own = binding.metadata.namespace;
  return [
    ...new Set(
      ctx.store
        .list('AccessRole')
        .filter((r) => r.metadata.name === binding.spec.role && r.metadata.namespace !== own)
        .map((r) => r.metadata.namespace!),
    ),
  ].sort();
}

/**
 * How many Users the binding reaches. One that names its Users (no selector) is counted by looking
 * them up: a hundred such bindings ending at once at 10,000 Users each walked the whole namespace.
 */
function subjectCount(ctx: ControllerContext, binding: AccessBinding, users: readonly User[]): number {
  if (binding.spec.userSelector !== undefined) return users.filter((user) => bindingSelectsUser(binding, user)).length;
  const namespace = binding.metadata.namespace!;
  return [...new Set(binding.spec.users ?? [])].filter((name) => ctx.store.get('User', { namespace, name }) !== undefined).length;
}

/**
 * An empty userSelector ({}, or no labels and no expressions) selects every User of the namespace,
 * today's and tomorrow's: allowed, as in Kubernetes, but said, because it is rarely meant.
 */
function selectsEveryUser(binding: AccessBinding, namespace: string, subjects: number): ConditionUpdate[] {
  const selector = binding.spec.userSelector;
  const empty = selector !== undefined && Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  if (empty) {
    return [
      {
        type: 'SelectsEveryUser',
        status: 'True',
        reason: 'EmptySelector',
        message: `spec.userSelector is empty: it selects every User in namespace ${namespace} (${subjects} now, and every User created later)`,
      },
    ];
  }
  // Shown only once it was true: most bindings never carry it.
  const was = binding.status?.conditions?.some((c) => c.type === 'SelectsEveryUser' && c.status === 'True');
  return was ? [{ type: 'SelectsEveryUser', status: 'False', reason: 'SelectorNarrowed', message: 'spec.userSelector names labels or expressions now' }] : [];
}

function ready(
  binding: AccessBinding,
  roleExists: boolean,
  pendingApproval: boolean,
  expired: boolean,
  notYet: boolean,
  startsAt: number | undefined,
  elsewhere: string[],
): ConditionUpdate {
  if (!roleExists) {
    const hint = elsewhere.length
      ? `; an AccessRole of that name exists in namespace ${elsewhere.join(', ')}, but a binding uses only roles of its own namespace`
      : '';
    return { type: 'Ready', status: 'False', reason: 'RoleNotFound', message: `AccessRole ${binding.spec.role} does not exist in this namespace${hint}` };
  }
  if (pendingApproval) return { type: 'Ready', status: 'False', reason: 'PendingApproval', message: 'waiting for an approval (spec.approval)' };
  if (expired) return { type: 'Ready', status: 'False', reason: 'Expired', message: 'the grant has ended' };
  if (notYet) return { type: 'Ready', status: 'False', reason: 'NotYetValid', message: `the grant starts at ${new Date(startsAt!).toISOString()}` };
  return { type: 'Ready', status: 'True', reason: 'InForce', message: 'the grant is in force' };
}
