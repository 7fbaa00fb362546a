// The AccessBinding reconciler: says in status whether the grant is in force, whom it reaches,
// when it ends, and why not (PendingApproval, Expired, missing role). Granting itself happens in
// the User reconciler; this only keeps `kubectl get abind` and `kubectl describe` truthful.
import type { AccessBinding, Condition } from '../api/index.ts';
import { bindingSelectsUser, bindingWindow, resolveRole } from '../engine/index.ts';
import { setCondition, statusEqual } from '../api/conditions.ts';
import type { ControllerContext } from './context.ts';
import type { Reconciler } from './reconciler.ts';

type ConditionUpdate = { type: string; status: Condition['status']; reason: string; message: string };

export function bindingReconciler(ctx: ControllerContext): Reconciler {
  return async (key) => {
    const binding = ctx.store.get('AccessBinding', key);
    if (!binding) return {};
    const now = ctx.clock.now();
    const role = resolveRole(binding.spec.role, ctx.store.list('AccessRole', key.namespace));
    const subjects = ctx.store.list('User', key.namespace).filter((user) => bindingSelectsUser(binding, user)).length;
    const window = role ? bindingWindow(binding, role) : { startsAt: undefined, endsAt: undefined };
    const pendingApproval = !!role?.requiresApproval && !binding.spec.approval?.approvedBy;
    const expired = window.endsAt !== undefined && now.getTime() >= window.endsAt;
    const notYet = window.startsAt !== undefined && now.getTime() < window.startsAt;

    const updates: ConditionUpdate[] = [
      {
        type: 'PendingApproval',
        status: pendingApproval ? 'True' : 'False',
        reason: pendingApproval ? 'ApprovalRequired' : 'NotRequired',
        message: pendingApproval ? `role ${binding.spec.role} requires approval: set spec.approval.approvedBy` : 'no approval is pending',
      },
      {
        type: 'Expired',
        status: expired ? 'True' : 'False',
        reason: expired ? 'ValidUntilPassed' : 'InForceWindow',
        message: expired ? `ended at ${new Date(window.endsAt!).toISOString()}` : 'not expired',
      },
      ready(binding, !!role, pendingApproval, expired, notYet, window.startsAt),
    ];
    let conditions = binding.status?.conditions;
    for (const update of updates) conditions = setCondition(conditions, update, binding.metadata.generation, now);
    const status: NonNullable<AccessBinding['status']> = { observedGeneration: binding.metadata.generation, subjects, conditions };
    if (window.endsAt !== undefined) status.accessEndsAt = new Date(window.endsAt).toISOString();
    if (!statusEqual(binding.status ?? {}, status)) await ctx.store.updateStatus('AccessBinding', key, status);

    // Wake at the next edge of the window so Ready and Expired flip on time.
    const edges = [window.startsAt, window.endsAt].filter((t): t is number => t !== undefined && t > now.getTime());
    return edges.length ? { requeueAt: new Date(Math.min(...edges)) } : {};
  };
}

function ready(binding: AccessBinding, roleExists: boolean, pendingApproval: boolean, expired: boolean, notYet: boolean, startsAt: number | undefined): ConditionUpdate {
  if (!roleExists) return { type: 'Ready', status: 'False', reason: 'RoleNotFound', message: `AccessRole ${binding.spec.role} does not exist in this namespace` };
  if (pendingApproval) return { type: 'Ready', status: 'False', reason: 'PendingApproval', message: 'waiting for spec.approval' };
  if (expired) return { type: 'Ready', status: 'False', reason: 'Expired', message: 'the grant has ended' };
  if (notYet) return { type: 'Ready', status: 'False', reason: 'NotYetValid', message: `the grant starts at ${new Date(startsAt!).toISOString()}` };
  return { type: 'Ready', status: 'True', reason: 'InForce', message: 'the grant is in force' };
}
