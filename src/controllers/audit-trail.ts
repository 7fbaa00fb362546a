// The audit trail: every change applied to a connected system logs exactly one JSON line with a
// stable schema (documented in docs/governance.md; fields are only ever added), so a log pipeline
// can select `audit: true` and answer "who got what, when, because of what".
import { changeUserName, type AccountChange, type ConnectedSystem, type Snapshot, type User } from '../api/index.ts';
import { changeCause, orphanCause, retentionCause, systemDeletionCause, type Cause } from '../engine/index.ts';
import { keyOf } from '../store/store.ts';

export interface AuditLine {
  audit: true;
  namespace: string;
  /** The ConnectedSystem's name. */
  system: string;
  /** The User's name; absent for an orphan account, which no User declares. */
  user?: string;
  /** The account's login name in the system. */
  userName: string;
  op: AccountChange['op'];
  entitlement?: string;
  cause: Cause;
}

/** The audit line of a change a User's sync made; its cause is read off the reconcile's snapshot. */
export function auditLine({ world, now }: Snapshot, user: User, system: string, change: AccountChange): AuditLine {
  const { namespace } = keyOf(user);
  const line: AuditLine = {
    audit: true,
    namespace,
    system,
    user: user.metadata.name,
    userName: user.spec.userName,
    op: change.op,
    cause: changeCause(change, user, system, world, now),
  };
  if (change.op === 'grant' || change.op === 'revoke') line.entitlement = change.entitlement;
  return line;
}

/**
 * The audit line of a change the orphan policy made (spec.orphans disable or delete): the same
 * schema, without `user` (no User declares the account), the ConnectedSystem as cause.
 */
export function orphanAuditLine(system: ConnectedSystem, change: AccountChange): AuditLine {
  return systemAuditLine(system, change, orphanCause(system.metadata.name, system.spec.orphans));
}

/** The audit line of a change made because the system is deleted under deletionPolicy deprovision. */
export function systemDeletionAuditLine(system: ConnectedSystem, change: AccountChange): AuditLine {
  return systemAuditLine(system, change, systemDeletionCause(system.metadata.name));
}

/** The audit line of a deleted User's account deleted once its retention ended. */
export function retentionAuditLine(system: ConnectedSystem, change: AccountChange, user: string): AuditLine {
  return systemAuditLine(system, change, retentionCause(user, system.spec.deprovision.retention));
}

/** A change the ConnectedSystem itself caused: no `user`, the system as cause. */
function systemAuditLine(system: ConnectedSystem, change: AccountChange, cause: Cause): AuditLine {
  const line: AuditLine = {
    audit: true,
    namespace: keyOf(system).namespace,
    system: system.metadata.name,
    userName: changeUserName(change),
    op: change.op,
    cause,
  };
  if (change.op === 'grant' || change.op === 'revoke') line.entitlement = change.entitlement;
  return line;
}
