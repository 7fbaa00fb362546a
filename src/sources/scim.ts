// Inbound SCIM 2.0 resources to and from the Users an scim IdentitySource owns. Pure: the server
// (scim-inbound/scim-server.ts) does the I/O. The SCIM id of a User is its metadata.name.
import { userSpec, type User, type UserSpec } from '../api/index.ts';

export interface ScimUser {
  id?: string;
  externalId?: string;
  userName?: string;
  name?: { givenName?: string; familyName?: string };
  displayName?: string;
  title?: string;
  emails?: Array<{ value?: string; primary?: boolean; type?: string }>;
  active?: boolean;
}

/**
 * The SCIM attributes a User keeps, each with where it goes: /Schemas advertises these and no others
 * (scim-inbound/scim-schema.ts truncates SCIMMY's RFC 7643 schema to them), and a request carrying
 * any other attribute is refused, never accepted and dropped. `externalId` is a common attribute
 * (RFC 7643 3.1), kept too. Sub-attributes are named with a dot.
 */
export const KEPT_USER_ATTRIBUTES = {
  externalId: 'annotation rollcall.dev/scim-values',
  userName: 'spec.userName (its local part, lowercased) and, as sent, annotation rollcall.dev/scim-values',
  'name.givenName': 'spec.givenName',
  'name.familyName': 'spec.familyName',
  displayName: 'spec.displayName',
  title: 'spec.title',
  'emails.value': 'spec.email (one address)',
  'emails.type': 'annotation rollcall.dev/scim-values',
  'emails.primary': 'annotation rollcall.dev/scim-values',
  active: 'spec.state (active or suspended)',
} as const;
/** Mutability that differs from RFC 7643's readWrite: spec.userName is immutable (accounts are keyed by it). */
export const USER_MUTABILITY: Record<string, 'immutable' | 'readOnly'> = { userName: 'immutable' };
/** The one e-mail type kept (as RFC 7643's canonical "work"): any other is refused. */
export const EMAIL_TYPES = ['work'] as const;

/**
 * What a Group keeps (the group's id to displayName map on the source, its members as labels):
 * members are Users by id, `$ref` their location, `type` "User". No member `display`: a copy of
 * the member's userName that a client would send and read back changed.
 */
export const KEPT_GROUP_ATTRIBUTES = {
  externalId: 'annotation rollcall.dev/scim-group-external-ids',
  displayName: 'annotation rollcall.dev/scim-groups',
  'members.value': 'label groups.rollcall.dev/<id> on the User',
  'members.$ref': "the member User's location",
  'members.type': '"User"',
} as const;
export const GROUP_MUTABILITY: Record<string, 'immutable' | 'readOnly'> = { 'members.type': 'readOnly' };

/**
 * SCIM values a User spec cannot hold, kept on the User as one JSON annotation: the userName as the
 * client sent it (spec.userName holds Rollcall's login name, which a userName such as
 * "user1@example.org" cannot be), externalId, and the e-mail's type and primary flag.
 */
export const SCIM_VALUES_ANNOTATION = 'rollcall.dev/scim-values';
export interface ScimValues {
  userName?: string;
  externalId?: string;
  emailType?: string;
  emailPrimary?: boolean;
  /** The client sent no `active` (or removed it): the User is active, and is shown without it. */
  activeUnset?: true;
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
  // One address is all a User holds: a second would be accepted and lost.
  if ((scim.emails?.length ?? 0) > 1) throw new ScimValueError('emails: a User keeps one address; send one');
  const email = scim.emails?.[0]?.value;
  const fields: ScimFields = {
    userName: rollcallUserName(scim.userName),
    givenName: scim.name?.givenName || undefined,
    familyName: scim.name?.familyName || undefined,
    displayName: scim.displayName || undefined,
    email: email || undefined,
    title: scim.title || undefined,
    state: scim.active === false ? 'suspended' : 'active',
  };
  const checked = userSpec.safeParse(fields);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const attribute =
      { userName: 'userName', email: 'emails', givenName: 'name.givenName', familyName: 'name.familyName' }[String(issue.path[0])] ?? String(issue.path[0]);
    throw new ScimValueError(`${attribute}: ${issue.message}`);
  }
  return fields;
}

/** The SCIM values to keep in SCIM_VALUES_ANNOTATION for a resource (scimToFields takes the rest). */
export function scimValues(scim: ScimUser): ScimValues {
  const email = scim.emails?.[0];
  return {
    ...(scim.userName !== undefined && { userName: scim.userName.trim() }),
    ...(scim.externalId !== undefined && scim.externalId !== '' && { externalId: scim.externalId }),
    ...(email?.value && email.type !== undefined && { emailType: email.type }),
    ...(email?.value && email.primary !== undefined && { emailPrimary: email.primary }),
    ...(scim.active === undefined && { activeUnset: true as const }),
  };
}

/** The SCIM values kept on a User (empty when it has none or they do not parse). */
export function scimValuesOf(user: User): ScimValues {
  try {
    const parsed: unknown = JSON.parse(user.metadata.annotations?.[SCIM_VALUES_ANNOTATION] ?? '{}');
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as ScimValues) : {};
  } catch {
    return {};
  }
}

/** The userName a SCIM client knows this User by: as it sent it, else Rollcall's. */
export function scimUserName(user: User): string {
  return scimValuesOf(user).userName ?? user.spec.userName;
}

export function userToScim(user: User): ScimUser & { id: string; meta?: { created?: string } } {
  const { spec } = user;
  const values = scimValuesOf(user);
  return {
    id: user.metadata.name,
    ...(values.externalId !== undefined && { externalId: values.externalId }),
    userName: values.userName ?? spec.userName,
    ...((spec.givenName || spec.familyName) && {
      name: { ...(spec.givenName && { givenName: spec.givenName }), ...(spec.familyName && { familyName: spec.familyName }) },
    }),
    ...(spec.displayName && { displayName: spec.displayName }),
    ...(spec.title && { title: spec.title }),
    ...(spec.email && {
      emails: [
        {
          value: spec.email,
          ...(values.emailType !== undefined && { type: values.emailType }),
          ...(values.emailPrimary !== undefined && { primary: values.emailPrimary }),
        },
      ],
    }),
    // Unset stays unset while the User is active; any other state is shown, whoever set it.
    ...(!(values.activeUnset && spec.state === 'active') && { active: spec.state === 'active' }),
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
  return stringMapOf(annotations, GROUPS_ANNOTATION);
}

/** The externalId of each group that has one (id to externalId), kept on the source beside GROUPS_ANNOTATION. */
export const GROUP_EXTERNAL_IDS_ANNOTATION = 'rollcall.dev/scim-group-external-ids';
export function groupExternalIdsOf(annotations: Record<string, string> | undefined): Map<string, string> {
  return stringMapOf(annotations, GROUP_EXTERNAL_IDS_ANNOTATION);
}

function stringMapOf(annotations: Record<string, string> | undefined, key: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(annotations?.[key] ?? '{}');
  } catch {
    return new Map();
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return new Map();
  return new Map(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** The annotation value that keeps `groups`, or the groups' external ids (groupsOf, groupExternalIdsOf read it back). */
export function groupsAnnotation(groups: ReadonlyMap<string, string>): string {
  return JSON.stringify(Object.fromEntries(groups));
}
