// Why a change is made to an account: the declaration that caused it, for the audit line every
// applied change logs (src/controllers/audit-trail.ts). Pure, and asked of the same inputs the
// plan was made from, so the cause names what the plan acted on.
import type { AccessBinding, AccountChange, User } from '../api/index.ts';
import { applicableBindings, bindingSelectsUser, inForce, type ApplicableBinding } from './binding.ts';
import type { OrphanPolicy } from './orphans.ts';
import type { World } from './pass.ts';
import { resolveRole } from './roles.ts';
import { sameTenant } from './tenant.ts';
import { userEntitled } from './user.ts';

export type CauseKind = 'AccessBinding' | 'AccessRole' | 'IdentitySource' | 'AccessReview' | 'Approval' | 'User' | 'ConnectedSystem';

export interface Cause {
  kind: CauseKind;
  name: string;
  reason?: string;
  ticket?: string;
}

/** The cause of `change` to `user`'s account in `system`, judged at `now`. */
export function changeCause(change: AccountChange, user: User, system: string, world: World, now: Date): Cause {
  const at = now.getTime();
  const applicable = applicableBindings(user, sameTenant(user, world.bindings), sameTenant(user, world.roles), world.reviews, world.users ?? [user]).filter(
    (a) => a.role.grants.has(system),
  );
  const granting = (entitlement: string | undefined) =>
    applicable.filter((a) => entitlement === undefined || (a.role.grants.get(system)?.has(entitlement) ?? false));
  const userCause = (reason: string): Cause => ({ kind: 'User', name: user.metadata.name, reason });
  const leaving = () => (userEntitled(user, at) ? undefined : userCause(leaverReason(user, at)));

  switch (change.op) {
    case 'grant':
    case 'create':
    case 'enable': {
      const entitlement = change.op === 'grant' ? change.entitlement : undefined;
      const first = granting(entitlement).find((a) => inForce(a, at));
      return first ? bindingCause(first.binding, approvalReason(first)) : userCause('no binding in force grants it');
    }
    case 'update':
      return userCause("the User's attributes changed");
    case 'adopt':
      return userCause('an account with its userName exists that this system may take over (legacy marker or spec.adoption)');
    case 'revoke':
    case 'disable':
    case 'delete': {
      const left = leaving();
      if (left) return left;
      const entitlement = change.op === 'revoke' ? change.entitlement : undefined;
      const lapsed = granting(entitlement).find((a) => !inForce(a, at));
      if (lapsed?.revokedBy && lapsed.endsAt !== undefined && at >= lapsed.endsAt) {
        const { review, decidedBy } = lapsed.revokedBy;
        return { kind: 'AccessReview', name: review, reason: decidedBy === 'default' ? 'revoked by default at the due date' : `revoked by ${decidedBy}` };
      }
      if (lapsed) return bindingCause(lapsed.binding, lapsedReason(lapsed, at));
      // What used to grant it: the one binding that would grant it but no longer applies to this User
      // (a mover's old department). A role the User still holds grants something else: never the cause.
      const former = formerGrantors(user, system, entitlement, world);
      if (former.length === 1) return { kind: 'AccessBinding', name: former[0]!.metadata.name, reason: 'no longer applies to this User' };
      return userCause('no longer granted by any binding');
    }
  }
}

/**
 * The cause of a change the orphan policy makes to an account no User declares: the ConnectedSystem
 * itself, whose spec.orphans asked for it (report and ignore change nothing, so never get here).
 */
export function orphanCause(system: string, policy: OrphanPolicy): Cause {
  return { kind: 'ConnectedSystem', name: system, reason: `orphan: no User declares this account; spec.orphans is ${policy}` };
}

/** The cause of a change made because the ConnectedSystem itself is deleted under deletionPolicy deprovision. */
export function systemDeletionCause(system: string): Cause {
  return { kind: 'ConnectedSystem', name: system, reason: 'the ConnectedSystem is being deleted; spec.deletionPolicy is deprovision' };
}

/** The cause of deleting a deleted User's account once its retention ended (deprovision.policy disableThenDelete). */
export function retentionCause(user: string, retention: string | undefined): Cause {
  return {
    kind: 'User',
    name: user,
    reason: `the User was deleted and the retention (${retention ?? 'unset'}) of its disabled account ended; deprovision.policy is disableThenDelete`,
  };
}

/** The bindings of the User's namespace whose role grants `entitlement` (or any access) in `system` but that no longer select the User. */
function formerGrantors(user: User, system: string, entitlement: string | undefined, world: World): AccessBinding[] {
  const roles = sameTenant(user, world.roles);
  return sameTenant(user, world.bindings).filter((binding) => {
    if (bindingSelectsUser(binding, user)) return false;
    const grants = resolveRole(binding.spec.role, roles)?.grants.get(system);
    return grants !== undefined && (entitlement === undefined || grants.has(entitlement));
  });
}

function bindingCause(binding: AccessBinding, reason: string | undefined): Cause {
  const cause: Cause = { kind: 'AccessBinding', name: binding.metadata.name };
  const why = [binding.spec.reason, reason].filter(Boolean).join('; ');
  if (why) cause.reason = why;
  if (binding.spec.ticket) cause.ticket = binding.spec.ticket;
  return cause;
}

function approvalReason(grant: ApplicableBinding): string | undefined {
  return grant.approval.state === 'Granted' ? `approved by ${grant.approval.approvedBy}` : undefined;
}

function lapsedReason(grant: ApplicableBinding, at: number): string {
  if (!grant.approved) return `approval ${grant.approval.state.toLowerCase()}: ${grant.approval.message}`;
  if (grant.endsAt !== undefined && at >= grant.endsAt) return `ended at ${new Date(grant.endsAt).toISOString()}`;
  return 'not yet in force';
}

function leaverReason(user: User, at: number): string {
  if (user.metadata.deletionTimestamp !== undefined) return 'the User is being deleted';
  if (user.spec.state !== 'active') return `the User is ${user.spec.state}`;
  const until = user.spec.validUntil;
  if (until !== undefined && Date.parse(until) <= at) return `the User's validUntil ${until} has passed`;
  return 'the User is not yet valid';
}
