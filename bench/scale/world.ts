// The scale world: N Users over 10 departments (label `department`), one AccessRole and one
// label-selected AccessBinding per department, each role granting 2 groups in each of 3 systems
// (ldap, postgres, scim). A scope keeps two worlds on the same servers apart (LDAP OUs, the
// PostgreSQL marker role, name prefixes), and `Declared` is what every system should hold.

export const DEPARTMENTS = 10;
export const SYSTEMS = ['ldap', 'postgres', 'scim'] as const;
export type SystemKind = (typeof SYSTEMS)[number];
/** ConnectedSystem names, one per kind. */
export const SYSTEM_NAMES: Record<SystemKind, string> = { ldap: 'corp-ldap', postgres: 'analytics-db', scim: 'wiki' };
export const CREDENTIALS_LABEL = { 'rollcall.dev/credentials': 'true' };

export interface Scope {
  /** Short, lowercase: u (operator), r (raw baseline), s (standalone). Prefixes user and group names. */
  tag: string;
  namespace: string;
  /** The systems this run uses (all three unless --systems says otherwise). */
  systems: SystemKind[];
}

export const ldapPeopleOu = (scope: Scope) => `people-${scope.tag}`;
export const ldapGroupsOu = (scope: Scope) => `groups-${scope.tag}`;
export const pgMarker = (scope: Scope) => `rollcall_managed_${scope.tag}`;
/** What Rollcall marks the scope's accounts with: its ConnectedSystems, as `<namespace>/<name>`. */
export const ownerOf = (scope: Scope, kind: SystemKind) => `${scope.namespace}/${SYSTEM_NAMES[kind]}`;
export const ldapMarker = (scope: Scope) => `rollcall:${ownerOf(scope, 'ldap')}`;
export const scimMarker = (scope: Scope, userName: string) => `rollcall:${ownerOf(scope, 'scim')}:${userName}`;
/** The tag Rollcall requires on a managedRole before it manages its members. */
export const pgMarkerTag = (scope: Scope) => `rollcall.dev/marker-of=${ownerOf(scope, 'postgres')}`;
export const userName = (scope: Scope, i: number) => `${scope.tag}${String(i).padStart(5, '0')}`;
export const departmentOf = (i: number) => i % DEPARTMENTS;
export const departmentGroups = (scope: Scope, d: number) => [`${scope.tag}-d${d}-a`, `${scope.tag}-d${d}-b`];
/** The group the expiring AccessBindings grant (phase 4). */
export const temporaryGroup = (scope: Scope) => `${scope.tag}-temp`;

export function allGroups(scope: Scope): string[] {
  return [...Array.from({ length: DEPARTMENTS }, (_, d) => departmentGroups(scope, d)).flat(), temporaryGroup(scope)];
}

export interface AccountView {
  enabled: boolean;
  groups: string[];
}

interface Person {
  department: number;
  terminated: boolean;
  /** Groups beyond the department's, granted by a still-valid AccessBinding. */
  extra: string[];
}

/** The model the final check compares every system with. */
export class Declared {
  readonly people = new Map<string, Person>();

  constructor(scope: Scope, users: number) {
    for (let i = 0; i < users; i++) this.people.set(userName(scope, i), { department: departmentOf(i), terminated: false, extra: [] });
  }

  expected(scope: Scope): Map<string, AccountView> {
    const out = new Map<string, AccountView>();
    for (const [name, p] of this.people) {
      out.set(name, p.terminated ? { enabled: false, groups: [] } : { enabled: true, groups: [...departmentGroups(scope, p.department), ...p.extra].sort() });
    }
    return out;
  }
}

export interface Endpoints {
  ldap: { url: string; adminDN: string; adminPassword: string; suffix: string };
  postgres: { host: string; port: number; adminUser: string; adminPassword: string };
  scim: { baseUrl: string; token: string };
}

export interface SystemPolicy {
  resyncInterval: string;
  /** Large enough not to trip for the benchmark's bursts (the guard's path is still exercised). */
  deletionGuard?: { maxCount?: number; maxPercent?: number };
}

const API = 'rollcall.dev/v1alpha1';
export type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace: string; labels?: Record<string, string> } };

export function secrets(scope: Scope, endpoints: Endpoints): Obj[] {
  const secret = (name: string, stringData: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: scope.namespace, labels: CREDENTIALS_LABEL, annotations: { 'rollcall.dev/allow-insecure': 'true' } }, // the local test servers speak plaintext
    type: 'Opaque',
    stringData,
  });
  const all: Record<SystemKind, Obj> = {
    ldap: secret('corp-ldap-credentials', { bindDN: endpoints.ldap.adminDN, password: endpoints.ldap.adminPassword }),
    postgres: secret('analytics-db-credentials', { username: endpoints.postgres.adminUser, password: endpoints.postgres.adminPassword }),
    scim: secret('wiki-credentials', { token: endpoints.scim.token }),
  };
  return scope.systems.map((kind) => all[kind]);
}

export function connectedSystems(scope: Scope, endpoints: Endpoints, policy: SystemPolicy): Obj[] {
  const common = {
    deprovision: { policy: 'disable' },
    orphans: 'report',
    insecure: true, // the local test servers speak plaintext
    allowPrivateNetwork: true, // and listen on loopback
    resyncInterval: policy.resyncInterval,
    ...(policy.deletionGuard && { deletionGuard: policy.deletionGuard }),
  };
  const system = (kind: SystemKind, settings: Record<string, unknown>) => ({
    apiVersion: API,
    kind: 'ConnectedSystem',
    metadata: { name: SYSTEM_NAMES[kind], namespace: scope.namespace },
    spec: { type: kind, [kind]: settings, credentialsSecretRef: { name: `${SYSTEM_NAMES[kind]}-credentials` }, ...common },
  });
  const suffix = endpoints.ldap.suffix;
  const all: Record<SystemKind, Obj> = {
    ldap: system('ldap', {
      url: endpoints.ldap.url,
      flavour: 'openldap',
      peopleDN: `ou=${ldapPeopleOu(scope)},${suffix}`,
      groupsDN: `ou=${ldapGroupsOu(scope)},${suffix}`,
    }),
    postgres: system('postgres', {
      host: endpoints.postgres.host,
      port: endpoints.postgres.port,
      database: 'postgres',
      ssl: 'disable',
      managedRole: pgMarker(scope),
    }),
    scim: system('scim', { baseUrl: endpoints.scim.baseUrl, auth: 'bearer' }),
  };
  return scope.systems.map((kind) => all[kind]);
}

const grantsOf = (scope: Scope, groups: string[]) => scope.systems.map((kind) => ({ system: SYSTEM_NAMES[kind], entitlements: groups }));

/** One role and one label-selected binding per department, and the role the expiring bindings use. */
export function rolesAndBindings(scope: Scope): Obj[] {
  const out: Obj[] = [];
  for (let d = 0; d < DEPARTMENTS; d++) {
    out.push({
      apiVersion: API,
      kind: 'AccessRole',
      metadata: { name: `dept-${d}`, namespace: scope.namespace },
      spec: { grants: grantsOf(scope, departmentGroups(scope, d)) },
    });
    out.push({
      apiVersion: API,
      kind: 'AccessBinding',
      metadata: { name: `dept-${d}`, namespace: scope.namespace },
      spec: { role: `dept-${d}`, userSelector: { matchLabels: { department: `d${d}` } }, reason: 'department membership' },
    });
  }
  out.push({
    apiVersion: API,
    kind: 'AccessRole',
    metadata: { name: 'temporary', namespace: scope.namespace },
    spec: { grants: grantsOf(scope, [temporaryGroup(scope)]) },
  });
  return out;
}

export function userObject(scope: Scope, i: number): Obj {
  const name = userName(scope, i);
  const d = departmentOf(i);
  return {
    apiVersion: API,
    kind: 'User',
    metadata: { name, namespace: scope.namespace, labels: { department: `d${d}` } },
    spec: { userName: name, givenName: `Given${i}`, familyName: `Family${i}`, email: `${name}@bench.example`, department: `d${d}`, title: 'Engineer' },
  };
}

export function temporaryBinding(scope: Scope, user: string, validUntil: string): Obj {
  return {
    apiVersion: API,
    kind: 'AccessBinding',
    metadata: { name: `temp-${user}`, namespace: scope.namespace },
    spec: { role: 'temporary', users: [user], validUntil, reason: 'scale benchmark: expiring access' },
  };
}
