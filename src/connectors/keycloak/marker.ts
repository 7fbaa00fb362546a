// The managed scope: users whose attribute `rollcall-system` is exactly this ConnectedSystem's
// `namespace/name`. Keycloak 24+ keeps only attributes its user profile declares (profile.ts
// declares this one, viewable and editable by admins only, so a user cannot move themselves out of
// the scope, or into another system's).
import type { AccountOwner } from '../../api/index.ts';
import type { KeycloakUser } from './user.ts';

export const MARKER_ATTRIBUTE = 'rollcall-system';

/** undefined: in this system's scope; otherwise whose it is. Keycloak accounts carry no legacy marker. */
export function ownerOf(user: KeycloakUser, system: string): AccountOwner | undefined {
  const values = user.attributes?.[MARKER_ATTRIBUTE] ?? [];
  if (values.length === 0) return 'unmanaged';
  return values.length === 1 && values[0] === system ? undefined : 'foreign';
}

export function isManaged(user: KeycloakUser, system: string): boolean {
  return ownerOf(user, system) === undefined;
}
