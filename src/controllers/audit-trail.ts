// The audit trail: every change applied to a connected system logs exactly one JSON line with a
// stable schema (documented in docs/governance.md; fields are only ever added), so a log pipeline
// can select `audit: true` and answer "who got what, when, because of what".
import type { AccountChange, User } from '../api/index.ts';
import { changeCause, type Cause } from '../engine/index.ts';
import { keyOf } from '../store/store.ts';
import type { ControllerContext } from './context.ts';
import { readWorld } from './world.ts';

export interface AuditLine {
  audit: true;
  namespace: string;
  /** The ConnectedSystem's name. */
  system: string;
  /** The User's name. */
  user: string;
  /** The account's login name in the system. */
  userName: string;
  op: AccountChange['op'];
  entitlement?: string;
  cause: Cause;
}

export function auditLine(ctx: Pick<ControllerContext, 'store' | 'clock'>, user: User, system: string, change: AccountChange): AuditLine {
  const { namespace } = keyOf(user);
  const line: AuditLine = {
    audit: true,
    namespace,
    system,
    user: user.metadata.name,
    userName: user.spec.userName,
    op: change.op,
    cause: changeCause(change, user, system, readWorld(ctx.store, namespace), ctx.clock.now()),
  };
  if (change.op === 'grant' || change.op === 'revoke') line.entitlement = change.entitlement;
  return line;
}

/** Logs the audit line of one applied change; `message` is the change in words. */
export function logAudit(ctx: ControllerContext, user: User, system: string, change: AccountChange, message: string): void {
  ctx.logger.info(auditLine(ctx, user, system, change), message);
}
