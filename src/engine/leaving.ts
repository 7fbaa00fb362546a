// When a User is on its way out, and how the engine sees it then.
import type { AccountStatus, Capabilities, DesiredAccount, User } from '../api/index.ts';
import { holdsEntitlement } from './comparison.ts';
import { userEntitled, userNotYetValid } from './user.ts';

/**
 * A User is leaving when suspended, terminated, being deleted or past its validUntil: from then
 * on the deprovision clock (status.deprovisionStartedAt) runs. A joiner before validFrom is not leaving.
 */
export function isLeaving(user: User, now: Date): boolean {
  return !userEntitled(user, now.getTime()) && !userNotYetValid(user, now.getTime());
}

/**
 * The User as the engine should see it: a leaver's deprovision clock starts now if it has not
 * started yet (disableThenDelete counts its retention from it), and stops if the User returns.
 */
export function withDeprovisionClock(user: User, now: Date): User {
  const deprovisionStartedAt = isLeaving(user, now) ? (user.status?.deprovisionStartedAt ?? now.toISOString()) : undefined;
  if (deprovisionStartedAt === user.status?.deprovisionStartedAt) return user;
  return { ...user, status: { ...user.status, deprovisionStartedAt } };
}

/**
 * Rollcall already deprovisioned this account (its status says so) and someone undid it by hand:
 * putting it back is drift correction, not a new loss of access, so the guard neither counts nor holds it.
 */
export function isRestoringDeprovision(recorded: AccountStatus | undefined, desired: DesiredAccount): boolean {
  return desired.state !== 'present' && recorded?.state === desired.state;
}

/**
 * Someone granted this entitlement by hand after Rollcall last synced the account (its status does
 * not list it): revoking it is drift correction, not a new loss of access, so the guard does not count it.
 */
export function isRevertingHandGrant(recorded: AccountStatus | undefined, entitlement: string, capabilities: Capabilities): boolean {
  // The status shows the declared spelling of what the system holds under another (comparison.ts).
  return recorded?.state === 'present' && !holdsEntitlement(recorded.entitlements ?? [], entitlement, capabilities);
}
