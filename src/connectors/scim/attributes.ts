// Rollcall's canonical attributes onto the SCIM User (RFC 7643 §4.1, §4.3), both ways. Pure.
// The manager is held here as the SCIM id of the manager's user, as the enterprise extension
// requires; the connector translates it to and from the manager's userName.
import type { Attributes } from '../../api/index.ts';
import { ENTERPRISE_USER_SCHEMA, type PatchOperation, type ScimEmail, type ScimUser } from './schema.ts';

export const CORE_ATTRIBUTES = ['givenName', 'familyName', 'displayName', 'email', 'title', 'employeeType'] as const;
/** Stored in the enterprise extension, so only offered when the server's User type has it. */
export const ENTERPRISE_ATTRIBUTES = ['employeeId', 'department', 'manager'] as const;

interface AttributeMapping {
  /** The PATCH path that holds the value. */
  path: string;
  get(user: ScimUser): string | undefined;
  /** Sets (or, with undefined, removes) the value on a user object being built or edited. */
  set(user: ScimUser, value: string | undefined): void;
  /** The value a PATCH replace puts at `path` once `set` has run; undefined means remove. */
  patchValue(user: ScimUser): unknown;
}

function topLevel(attribute: 'displayName' | 'title' | 'userType'): AttributeMapping {
  return {
    path: attribute,
    get: (user) => user[attribute],
    set: (user, value) => assign(user as unknown as Record<string, unknown>, attribute, value),
    patchValue: (user) => user[attribute],
  };
}

function nameField(part: 'givenName' | 'familyName'): AttributeMapping {
  return {
    path: `name.${part}`,
    get: (user) => user.name?.[part],
    set: (user, value) => {
      user.name = { ...user.name };
      assign(user.name, part, value);
      if (Object.keys(user.name).length === 0) delete user.name;
    },
    patchValue: (user) => user.name?.[part],
  };
}

function enterpriseField(part: 'employeeNumber' | 'department'): AttributeMapping {
  return {
    path: `${ENTERPRISE_USER_SCHEMA}:${part}`,
    get: (user) => user[ENTERPRISE_USER_SCHEMA]?.[part],
    set: (user, value) => editEnterprise(user, (extension) => assign(extension, part, value)),
    patchValue: (user) => user[ENTERPRISE_USER_SCHEMA]?.[part],
  };
}

const manager: AttributeMapping = {
  path: `${ENTERPRISE_USER_SCHEMA}:manager`,
  get: (user) => user[ENTERPRISE_USER_SCHEMA]?.manager?.value,
  set: (user, id) => editEnterprise(user, (extension) => assign(extension, 'manager', id === undefined ? undefined : { value: id })),
  patchValue: (user) => user[ENTERPRISE_USER_SCHEMA]?.manager,
};

/** The primary e-mail; the others (which Rollcall did not write) are kept. */
const email: AttributeMapping = {
  path: 'emails',
  get: (user) => primaryEmail(user.emails)?.value,
  set: (user, value) => {
    const others = (user.emails ?? []).filter((e) => e !== primaryEmail(user.emails));
    const emails: ScimEmail[] = value === undefined ? others : [{ value, primary: true }, ...others];
    assign(user as unknown as Record<string, unknown>, 'emails', emails.length ? emails : undefined);
  },
  patchValue: (user) => user.emails,
};

// A Map: attribute names are a User's (tenant input), and `constructor` must find nothing.
const MAPPINGS = new Map<string, AttributeMapping>([
  ['givenName', nameField('givenName')],
  ['familyName', nameField('familyName')],
  ['displayName', topLevel('displayName')],
  ['email', email],
  ['title', topLevel('title')],
  ['employeeType', topLevel('userType')],
  ['employeeId', enterpriseField('employeeNumber')],
  ['department', enterpriseField('department')],
  ['manager', manager],
]);

/** The canonical attributes among `names` that the user holds (manager as an id). */
export function readAttributes(user: ScimUser, names: readonly string[]): Attributes {
  const attributes: Attributes = {};
  for (const name of names) {
    const value = MAPPINGS.get(name)?.get(user);
    if (value !== undefined && value !== '') attributes[name] = value;
  }
  return attributes;
}

/** Edits turning `current` into the wanted values: empty when it already holds them (no write). */
export function attributeEdits(current: ScimUser, wanted: Record<string, string | null>, names: readonly string[]): Map<string, string | undefined> {
  const edits = new Map<string, string | undefined>();
  for (const [name, raw] of Object.entries(wanted)) {
    const mapping = MAPPINGS.get(name);
    if (!mapping || !names.includes(name)) continue;
    const value = raw === null || raw === '' ? undefined : raw;
    if (mapping.get(current) !== value) edits.set(name, value);
  }
  return edits;
}

/** Applies edits to a copy of the user: the body of a PUT, or the basis of a PATCH. */
export function editedUser(current: ScimUser, edits: Map<string, string | undefined>): ScimUser {
  const next = structuredClone(current);
  for (const [name, value] of edits) MAPPINGS.get(name)!.set(next, value);
  return next;
}

/** The PatchOp operations for the edits (RFC 7644 §3.5.2). */
export function patchOperations(current: ScimUser, edits: Map<string, string | undefined>): PatchOperation[] {
  const next = editedUser(current, edits);
  const paths = new Map<string, AttributeMapping>();
  for (const name of edits.keys()) {
    const mapping = MAPPINGS.get(name)!;
    paths.set(mapping.path, mapping);
  }
  return [...paths].map(([path, mapping]) => {
    const value = mapping.patchValue(next);
    return value === undefined ? { op: 'remove', path } : { op: 'replace', path, value };
  });
}

function primaryEmail(emails: ScimEmail[] | undefined): ScimEmail | undefined {
  return emails?.find((e) => e.primary) ?? emails?.[0];
}

function editEnterprise(user: ScimUser, edit: (extension: Record<string, unknown>) => void): void {
  const extension: Record<string, unknown> = { ...user[ENTERPRISE_USER_SCHEMA] };
  edit(extension);
  if (Object.keys(extension).length) user[ENTERPRISE_USER_SCHEMA] = extension;
  else delete user[ENTERPRISE_USER_SCHEMA];
  const schemas = (user.schemas ?? []).filter((s) => s !== ENTERPRISE_USER_SCHEMA);
  user.schemas = user[ENTERPRISE_USER_SCHEMA] ? [...schemas, ENTERPRISE_USER_SCHEMA] : schemas;
}

function assign(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}
