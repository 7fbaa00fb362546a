// What a system's deprovision policy leaves of an account its user should no longer use.
import type { ConnectedSystem, User } from '../api/index.ts';
import { parseDuration } from './duration.ts';
import { instant } from './instant.ts';

/** Epoch ms at which disableThenDelete turns a disabled account into a deleted one, if it does. */
export function deleteAfterRetentionAt(user: User, system: ConnectedSystem, now: number): number | undefined {
  const { policy, retention } = system.spec.deprovision;
  // Without a retention (the API requires one) we keep the account disabled rather than guess.
  if (policy !== 'disableThenDelete' || retention === undefined) return undefined;
  // The account's own clock first (a mover who lost the system is not leaving), then the User's;
  // not yet recorded by the controller: the deprovision starts now, so the retention starts now.
  const startedAt = instant(disabledAt(user, system)) ?? instant(user.status?.deprovisionStartedAt) ?? now;
  return startedAt + parseDuration(retention);
}

/** When the User's account in this system was disabled, as its status records. */
export function disabledAt(user: User, system: ConnectedSystem): string | undefined {
  const account = user.status?.accounts?.find((a) => a.system === system.metadata.name);
  return account?.state === 'disabled' ? account.disabledAt : undefined;
}

/**
 * Suspension is reversible, so it only ever disables. Anything else (terminated, expired, deleted,
 * or simply no longer bound) follows the system's policy.
 */
export function deprovisionedState(user: User, system: ConnectedSystem, now: number): 'disabled' | 'absent' {
  const beingDeleted = user.metadata.deletionTimestamp !== undefined;
  if (user.spec.state === 'suspended' && !beingDeleted) return 'disabled';
  switch (system.spec.deprovision.policy) {
    case 'disable':
      return 'disabled';
    case 'delete':
      return 'absent';
    case 'disableThenDelete': {
      const deleteAt = deleteAfterRetentionAt(user, system, now);
      return deleteAt !== undefined && now >= deleteAt ? 'absent' : 'disabled';
    }
  }
}
