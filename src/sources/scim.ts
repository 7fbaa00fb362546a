// Inbound SCIM 2.0 resources to and from the Users an scim IdentitySource owns. Pure: the server
// (controllers/scim-server.ts) does the I/O. The SCIM id of a User is its metadata.name.
import { userSpec, type User, type UserSpec } from '../api/index.ts';

export interface ScimUser {
  id?: string;
  externalId?: string;
  userName?: string;
  name?: { givenName?: string; familyName?: string; formatted?: string };
  displayName?: string;
  title?: string;
  emails?: Array<{ value?: string; primary?: boolean; type?: string }>;
  active?: boolean;
}

/** The fields a SCIM client manages; the rest of the spec is left as it is. */
export type ScimFields = Pick<UserSpec, 'userName' | 'givenName' | 'familyName' | 'displayName' | 'email' | 'title'> & { state: 'active' | 'suspended' };

/** A SCIM value the User cannot hold, with the SCIM attribute named. */
export class ScimValueError extends Error {}

/** userName as Rollcall keeps it: lowercase, the local part of an e-mail-style name. */
export function rollcallUserName(scimUserName: string): string {
  const lower = scimUserName.trim().toLowerCase();
  return lower.includes('@') ? lower.slice(0, lower.indexOf('@')) : lower;
}

/** The User's name for a userName: DNS-1123 (an underscore becomes a dash). */
export function userNameToObjectName(userName: string): string {
  return userName.replace(/_/g, '-');
}

export function scimToFields(scim: ScimUser): ScimFields {
  if (!scim.userName) throw new ScimValueError('userName is required');
  const email = (scim.emails ?? []).find((e) => e.primary)?.value ?? scim.emails?.[0]?.value;
  const fields: ScimFields = {
    userName: rollcallUserName(scim.userName),
    givenName: scim.name?.givenName || undefined,
    familyName: scim.name?.familyName || undefined,
    displayName: scim.displayName || scim.name?.formatted || undefined,
    email: email || undefined,
    title: scim.title || undefined,
    state: scim.active === false ? 'suspended' : 'active',
  };
  const checked = userSpec.safeParse(fields);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const attribute = { userName: 'userName', email: 'emails', givenName: 'name.givenName', familyName: 'name.familyName' }[String(issue.path[0])] ?? String(issue.path[0]);
    throw new ScimValueError(`${attribute}: ${issue.message}`);
  }
  return fields;
}

export function userToScim(user: User): ScimUser & { id: string; meta?: { created?: string } } {
  const { spec } = user;
  return {
    id: user.metadata.name,
    userName: spec.userName,
    ...((spec.givenName || spec.familyName) && { name: { ...(spec.givenName && { givenName: spec.givenName }), ...(spec.familyName && { familyName: spec.familyName }) } }),
    ...(spec.displayName && { displayName: spec.displayName }),
    ...(spec.title && { title: spec.title }),
    ...(spec.email && { emails: [{ value: spec.email, type: 'work', primary: true }] }),
    active: spec.state === 'active',
  };
}

/** The merge patch that makes `current` hold `fields` (only the SCIM-managed fields). */
export function scimPatch(current: User, fields: ScimFields): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const key of ['givenName', 'familyName', 'displayName', 'email', 'title', 'state'] as const) {
    const want = fields[key];
    if (want !== current.spec[key]) patch[key] = want ?? null;
  }
  return patch;
}

/** Groups are labels: a member User carries `groups.rollcall.dev/<id>: "true"`, so AccessBindings select on it. */
export const GROUP_LABEL_PREFIX = 'groups.rollcall.dev/';
/** The groups of an scim source (id to displayName), kept on the source, so an empty group exists too. */
export const GROUPS_ANNOTATION = 'rollcall.dev/scim-groups';

/** A group's id (and label name) for its displayName: lowercase letters, digits and dashes, at most 63. */
export function groupId(displayName: string): string {
  const id = displayName
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  if (id === '') throw new ScimValueError(`displayName "${displayName}" has no letter or digit to name the group by`);
  return id;
}

/**
 * The groups kept on the source, id to displayName. A Map, because ids come from the request path:
 * on a plain object `/Groups/constructor` or `/Groups/toString` found Object.prototype's and counted
 * as an existing group. Only own entries with a string displayName count.
 */
export function groupsOf(annotations: Record<string, string> | undefined): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(annotations?.[GROUPS_ANNOTATION] ?? '{}');
  } catch {
    return new Map();
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return new Map();
  return new Map(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** The annotation value that keeps `groups` (groupsOf reads it back). */
export function groupsAnnotation(groups: ReadonlyMap<string, string>): string {
  return JSON.stringify(Object.fromEntries(groups));
}
