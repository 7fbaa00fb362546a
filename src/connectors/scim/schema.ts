import type { AccountOwner } from '../../api/index.ts';
// The SCIM resource shapes Rollcall reads and writes (RFC 7643), and the managed-scope marker.

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface ScimMeta {
  version?: string;
  lastModified?: string;
}

export interface ScimEmail {
  value?: string;
  primary?: boolean;
  type?: string;
}

export interface EnterpriseUser {
  employeeNumber?: string;
  department?: string;
  manager?: { value?: string; $ref?: string; displayName?: string };
}

export interface ScimUser {
  schemas?: string[];
  id: string;
  userName: string;
  externalId?: string;
  active?: boolean;
  name?: { givenName?: string; familyName?: string; formatted?: string };
  displayName?: string;
  emails?: ScimEmail[];
  title?: string;
  userType?: string;
  meta?: ScimMeta;
  [ENTERPRISE_USER_SCHEMA]?: EnterpriseUser;
  [other: string]: unknown;
}

export interface ScimGroup {
  id: string;
  displayName: string;
  members?: { value: string }[];
  meta?: ScimMeta;
}

export interface ListResponse<T> {
  totalResults?: number;
  startIndex?: number;
  itemsPerPage?: number;
  Resources?: T[];
}

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/**
 * The managed-scope marker. Rollcall sets `externalId` to `rollcall:<namespace>/<name>:<userName>`
 * (the owning ConnectedSystem, then the userName) on every user it creates, and lists, changes and
 * deletes only users that carry exactly that value. A user with the same userName but another (or
 * no) externalId belongs to someone else: to another system, to a person, or, as `rollcall:<userName>`,
 * to the marker every system shared before markers named their system (claimed on first use). externalId
 * is the attribute RFC 7643 §3.1 gives the provisioning client for its own identifier, so no schema
 * extension is needed.
 */
export const MARKER_PREFIX = 'rollcall:';

export function markerPrefix(system: string): string {
  return `${MARKER_PREFIX}${system}:`;
}

export function markerFor(system: string, userName: string): string {
  return `${markerPrefix(system)}${userName}`;
}

export function legacyMarkerFor(userName: string): string {
  return `${MARKER_PREFIX}${userName}`;
}

/** Whose the user is, seen from `system`: undefined when it is this system's own. */
export function ownerOf(user: ScimUser, system: string): AccountOwner | undefined {
  if (user.externalId === markerFor(system, user.userName)) return undefined;
  if (user.externalId === legacyMarkerFor(user.userName)) return 'legacy';
  if (user.externalId?.startsWith(MARKER_PREFIX)) return 'foreign';
  return 'unmanaged';
}

export function isManaged(user: ScimUser, system: string): boolean {
  return ownerOf(user, system) === undefined;
}
