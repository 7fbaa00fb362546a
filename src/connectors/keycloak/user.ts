// A Keycloak user as the admin REST API returns it, and Rollcall's canonical attributes on it:
// givenName, familyName and email are Keycloak's firstName, lastName and email; every other
// canonical attribute is a user attribute of the same name (declared in the user profile, profile.ts).
import type UserRepresentation from '@keycloak/keycloak-admin-client/lib/defs/userRepresentation.js';
import { CANONICAL_ATTRIBUTES, type Attributes } from '../../api/index.ts';
import { MARKER_ATTRIBUTE } from './marker.ts';

export type KeycloakUser = UserRepresentation & { id: string; username: string; attributes?: Record<string, string[]> };

const BUILT_IN = { givenName: 'firstName', familyName: 'lastName', email: 'email' } as const;
type BuiltIn = keyof typeof BUILT_IN;
const isBuiltIn = (name: string): name is BuiltIn => name in BUILT_IN;

export const STORED_ATTRIBUTES: readonly string[] = CANONICAL_ATTRIBUTES;
/** Canonical attributes kept as Keycloak user attributes (declared in the realm's user profile). */
export const PROFILE_ATTRIBUTES: readonly string[] = CANONICAL_ATTRIBUTES.filter((name) => !isBuiltIn(name));

/** The canonical attributes `user` holds (an empty value counts as none). */
export function readAttributes(user: KeycloakUser): Attributes {
  const out: Attributes = {};
  for (const name of STORED_ATTRIBUTES) {
    const value = isBuiltIn(name) ? user[BUILT_IN[name]] : user.attributes?.[name]?.[0];
    if (typeof value === 'string' && value !== '') out[name] = value;
  }
  return out;
}

/**
 * The representation to PUT for `user` with `wanted` applied (null removes), or undefined when
 * nothing changes. Keycloak's PUT replaces the whole attribute map, so the user's other attributes
 * (the marker among them) are sent back as they are.
 */
export function editedUser(user: KeycloakUser, wanted: Record<string, string | null>, extra: Partial<KeycloakUser> = {}): KeycloakUser | undefined {
  const current = readAttributes(user);
  const attributes = { ...user.attributes };
  const edited: KeycloakUser = { ...writable(user), attributes };
  let changed = false;
  for (const [name, value] of Object.entries(wanted)) {
    if (!STORED_ATTRIBUTES.includes(name) || (current[name] ?? null) === (value === '' ? null : value)) continue;
    changed = true;
    if (isBuiltIn(name)) edited[BUILT_IN[name]] = value ?? '';
    else if (value === null || value === '') delete attributes[name];
    else attributes[name] = [value];
  }
  for (const [key, value] of Object.entries(extra)) {
    if (JSON.stringify((user as unknown as Record<string, unknown>)[key]) === JSON.stringify(value)) continue;
    changed = true;
    (edited as unknown as Record<string, unknown>)[key] = value;
  }
  return changed ? edited : undefined;
}

/** A new user's representation: its attributes and this system's marker. */
export function newUser(userName: string, system: string, attributes: Attributes, enabled: boolean): Omit<KeycloakUser, 'id'> {
  const base: KeycloakUser = { id: '', username: userName, enabled, attributes: { [MARKER_ATTRIBUTE]: [system] } };
  const { id: _id, ...rep } = editedUser(base, attributes) ?? base;
  return rep;
}

/** `user` with this system's marker, to PUT when adopting it: its other attributes kept. */
export function withMarker(user: KeycloakUser, system: string): KeycloakUser {
  return { ...writable(user), attributes: { ...user.attributes, [MARKER_ATTRIBUTE]: [system] } };
}

/** The fields a PUT may carry: what the admin console sends back, without read-only metadata. */
function writable(user: KeycloakUser): KeycloakUser {
  const { id, username, enabled, emailVerified, firstName, lastName, email } = user;
  return { id, username, enabled, emailVerified, firstName, lastName, email };
}
