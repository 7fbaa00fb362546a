// Whose account is it? A system changes only accounts that carry its own marker. An account with a
// User's userName that carries another marker, or none, is decided here: taken over (adopted) or
// left alone as a conflict. Pure: the connector reports the marker, the ConnectedSystem's
// spec.adoption says what may be taken.
import type { AdoptionPolicy, DesiredAccount, ObservedAccount } from '../api/index.ts';

export type OwnershipDecision =
  /** The account is this system's, or there is none: plan as usual. */
  | { kind: 'owned' }
  /** Mark it as this system's first (`reason` says why it may be taken), then plan against it. */
  | { kind: 'adopt'; reason: 'legacyMarker' | 'matchUserName' | 'matchEmail' }
  /** Not ours and not to be taken: nothing is changed, and the User shows a Conflict (`message`) when it wants the account. */
  | { kind: 'conflict'; message: string }
  /** Not ours, and the User wants no account here: nothing to do and nothing to report. */
  | { kind: 'notOurs' };

/**
 * Accounts carrying the marker every system shared before markers named their ConnectedSystem are
 * claimed by the first system whose User declares them, whatever spec.adoption says: that keeps
 * existing installs working, leavers included (a legacy account of a leaver is claimed, then cut off).
 */
export function decideOwnership(desired: DesiredAccount, observed: ObservedAccount | undefined, adoption: AdoptionPolicy): OwnershipDecision {
  if (observed?.owner === undefined) return { kind: 'owned' };
  const wanted = desired.state === 'present';
  if (observed.owner === 'foreign') {
    // "foreign" is also the system's own account (a PostgreSQL superuser such as postgres).
    return wanted
      ? {
          kind: 'conflict',
          message: `spec.userName ${desired.userName}: the account of that name belongs to another ConnectedSystem on the same backend, or to the system itself; it is left alone`,
        }
      : { kind: 'notOurs' };
  }
  // The connector says the account is more than a login to take (an elevated role, a group, a
  // marker): no policy adopts it, the legacy marker included.
  if (observed.notAdoptable !== undefined) {
    return wanted
      ? {
          kind: 'conflict',
          message: `spec.userName ${desired.userName}: an account of that name exists that Rollcall does not manage and never takes over (${observed.notAdoptable}); it is left alone`,
        }
      : { kind: 'notOurs' };
  }
  if (observed.owner === 'legacy') return { kind: 'adopt', reason: 'legacyMarker' };
  if (adoption === 'matchUserName') return { kind: 'adopt', reason: 'matchUserName' };
  if (adoption === 'matchEmail') {
    const want = desired.attributes['email']?.toLowerCase();
    if (want !== undefined && observed.attributes['email']?.toLowerCase() === want) return { kind: 'adopt', reason: 'matchEmail' };
    if (!wanted) return { kind: 'notOurs' };
    return {
      kind: 'conflict',
      message: `spec.userName ${desired.userName}: an account of that name exists that Rollcall does not manage, and its email does not match the User's (spec.adoption is matchEmail); it is left alone`,
    };
  }
  if (!wanted) return { kind: 'notOurs' };
  return {
    kind: 'conflict',
    message: `spec.userName ${desired.userName}: an account of that name exists that Rollcall does not manage; set spec.adoption to take it over, or rename one of them`,
  };
}
