// Fixture factories for engine tests. Every object goes through its zod schema, so defaults apply
// exactly as they would for a manifest the API server accepted.
import { z } from 'zod';
import {
  API_VERSION,
  accessBindingResource,
  accessBindingSpec,
  accessRoleResource,
  accessRoleSpec,
  connectedSystemResource,
  connectedSystemSpec,
  userResource,
  userSpec,
  userStatus,
  type AccessBinding,
  type AccessRole,
  type Capabilities,
  type ConnectedSystem,
  type DesiredAccount,
  type ObjectMeta,
  type ObservedAccount,
  type User,
} from '../../../src/api/index.ts';
import { approvalOf } from '../../../src/engine/index.ts';

export const NAMESPACE = 'team-a';
/** The clock every test reads unless it says otherwise. */
export const NOW = new Date('2026-06-01T12:00:00.000Z');
export const CREATED = '2026-01-01T00:00:00Z';

/** `now` shifted by milliseconds, as an RFC 3339 string for specs. */
export function at(offsetMs: number, from: Date = NOW): string {
  return new Date(from.getTime() + offsetMs).toISOString();
}
export const MS = 1;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

interface Meta {
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  annotations?: Record<string, string>;
}

function metadata(name: string, meta: Meta = {}): ObjectMeta {
  return { name, namespace: NAMESPACE, creationTimestamp: CREATED, ...meta };
}

export function user(name: string, spec: Partial<z.input<typeof userSpec>> = {}, meta: Meta = {}, status?: z.input<typeof userStatus>): User {
  return userResource.parse({
    apiVersion: API_VERSION,
    kind: 'User',
    metadata: metadata(name, meta),
    spec: { userName: name, givenName: 'Ada', familyName: 'Lovelace', email: `${name}@example.org`, ...spec },
    ...(status !== undefined ? { status } : {}),
  });
}

export function role(name: string, spec: Partial<z.input<typeof accessRoleSpec>> = {}, meta: Meta = {}): AccessRole {
  return accessRoleResource.parse({ apiVersion: API_VERSION, kind: 'AccessRole', metadata: metadata(name, meta), spec });
}

/** A role granting entitlements on systems: grants({ ldap: ['eng'] }). */
export function grants(bySystem: Record<string, string[]>): z.input<typeof accessRoleSpec>['grants'] {
  return Object.entries(bySystem).map(([system, entitlements]) => ({ system, entitlements }));
}

export function binding(name: string, spec: Partial<z.input<typeof accessBindingSpec>> & { role: string }, meta: Meta = {}): AccessBinding {
  return accessBindingResource.parse({ apiVersion: API_VERSION, kind: 'AccessBinding', metadata: metadata(name, meta), spec });
}

/** `subject` with an approval by `approvedBy` of it as it stands among `roles` and `users` (what kubectl rollcall approve writes). */
export function approved(subject: AccessBinding, approvedBy: string, roles: readonly AccessRole[], users: readonly User[]): AccessBinding {
  return { ...subject, spec: { ...subject.spec, approval: approvalOf(subject, roles, users, approvedBy) } };
}

export function system(name: string, spec: Partial<z.input<typeof connectedSystemSpec>> = {}, meta: Meta = {}): ConnectedSystem {
  return connectedSystemResource.parse({
    apiVersion: API_VERSION,
    kind: 'ConnectedSystem',
    metadata: metadata(name, meta),
    spec: { type: 'sqlite', sqlite: { path: `/tmp/${name}.db` }, ...spec },
  });
}

export const FULL: Capabilities = { disable: true, entitlements: true, attributes: ['givenName', 'familyName', 'displayName', 'email'] };
export const NO_DISABLE: Capabilities = { ...FULL, disable: false };
export const IMPLICIT: Capabilities = { disable: false, entitlements: true, attributes: [], implicitAccounts: true };
export const NO_ENTITLEMENTS: Capabilities = { ...FULL, entitlements: false };

export function desired(
  userName: string,
  state: DesiredAccount['state'],
  entitlements: string[] = [],
  attributes: Record<string, string> = {},
): DesiredAccount {
  return { system: 'ldap', userName, state, attributes, entitlements };
}

export function observed(
  userName: string,
  state: ObservedAccount['state'],
  entitlements: string[] = [],
  attributes: Record<string, string> = {},
): ObservedAccount {
  return { userName, id: `uid=${userName}`, state, attributes, entitlements };
}
