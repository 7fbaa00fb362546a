// Facts about a User on its own, before any binding is considered.
import type { EffectiveUserState, User } from '../api/index.ts';
import { instant, within } from './instant.ts';

/** Active, not being deleted, and inside its own validity window. */
export function userEntitled(user: User, now: number): boolean {
  return (
    user.spec.state === 'active' && user.metadata.deletionTimestamp === undefined && within(now, instant(user.spec.validFrom), instant(user.spec.validUntil))
  );
}

/** A joiner whose start date is still ahead. */
export function userNotYetValid(user: User, now: number): boolean {
  const from = instant(user.spec.validFrom);
  return from !== undefined && now < from;
}

/** What the User is at `now`: being deleted, then its declared leave, then its dates. */
export function effectiveState(user: User, now: number): EffectiveUserState {
  if (user.metadata.deletionTimestamp !== undefined) return 'deleting';
  if (user.spec.state !== 'active') return user.spec.state;
  const until = instant(user.spec.validUntil);
  if (until !== undefined && now >= until) return 'expired';
  if (userNotYetValid(user, now)) return 'pending';
  return 'active';
}

/** Systems where the status says the user holds an account (anything but absent, including error). */
export function heldSystems(user: User): Set<string> {
  return new Set((user.status?.accounts ?? []).filter((account) => account.state !== 'absent').map((account) => account.system));
}
