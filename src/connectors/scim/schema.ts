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
 * The managed-scope marker. Rollcall sets `externalId` to `rollcall:<userName>` on every user it
 * creates, and lists, changes and deletes only users that carry exactly that value. A user with
 * the same userName but another (or no) externalId belongs to someone else: Rollcall never
 * touches it. externalId is the attribute RFC 7643 §3.1 gives the provisioning client for its own
 * identifier, so no schema extension is needed.
 */
export const MARKER_PREFIX = 'rollcall:';

export function markerFor(userName: string): string {
  return `${MARKER_PREFIX}${userName}`;
}

export function isManaged(user: ScimUser): boolean {
  return user.externalId === markerFor(user.userName);
}
