// The three real systems the fault suites converge into (slapd, PostgreSQL, scim2-server), the
// manifests of a standalone `rollcall run --manifests DIR` that serves them, and what each system
// holds, read directly (ldapts, pg, HTTP) so a test compares the systems with what was declared.
// Each User belongs to one department; its department's role grants one group in each system.
import { Client } from 'ldapts';
import { EMPTY_GROUP_PLACEHOLDER } from '../../src/connectors/ldap/index.ts';
import {
  accessBinding,
  accessRole,
  ldapSystem,
  manifestsYaml,
  postgresCredentials,
  postgresSystem,
  scimCredentials,
  scimSystem,
  slapdCredentials,
  user,
  writeManifests,
  type Manifest,
  type SpecOf,
} from '../helpers/manifests.ts';
import { adminQuery, startPostgres, type PostgresServer } from '../servers/postgres.ts';
import { start as startScim, type ScimServer } from '../servers/scim.ts';
import { start as startSlapd, type SlapdServer } from '../servers/slapd.ts';

export const NAMESPACE = 'acme';
export const DEPARTMENTS = ['eng', 'sales', 'fin'] as const;
export type Department = (typeof DEPARTMENTS)[number];
export const SYSTEMS = ['directory', 'db', 'wiki'] as const;
export type SystemName = (typeof SYSTEMS)[number];

/** The one group each department's role grants in each system (LDAP cn, PostgreSQL role, SCIM displayName). */
export const GRANTS: Record<Department, Record<SystemName, string>> = {
  eng: { directory: 'eng', db: 'eng_rw', wiki: 'Engineering' },
  sales: { directory: 'sales', db: 'sales_ro', wiki: 'Sales' },
  fin: { directory: 'fin', db: 'fin_rw', wiki: 'Finance' },
};

export interface Servers {
  slapd: SlapdServer;
  postgres: PostgresServer;
  scim: ScimServer;
}

/** The servers, each with the groups the roles grant. `durableScim: false` for a suite that never restarts it (test/servers/scim.ts). */
export async function startServers({ durableScim = true } = {}): Promise<Servers> {
  const [slapd, postgres, scim] = await Promise.all([startSlapd(), startPostgres(), startScim({ durable: durableScim })]);
  const servers = { slapd, postgres, scim };
  await withLdap(servers, async (client) => {
    for (const d of DEPARTMENTS)
      await client.add(`cn=${GRANTS[d].directory},${slapd.groupsDN}`, {
        objectClass: 'groupOfNames',
        cn: GRANTS[d].directory,
        member: EMPTY_GROUP_PLACEHOLDER,
      });
  });
  for (const d of DEPARTMENTS) await adminQuery(postgres, `CREATE ROLE ${GRANTS[d].db} NOLOGIN`);
  for (const d of DEPARTMENTS) {
    const response = await fetch(`${scim.baseUrl}/Groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${scim.token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: GRANTS[d].wiki }),
    });
    if (!response.ok) throw new Error(`create SCIM group ${GRANTS[d].wiki}: HTTP ${response.status}`);
  }
  return servers;
}

export async function closeServers(servers: Partial<Servers> | undefined): Promise<void> {
  await Promise.all([servers?.slapd?.close(), servers?.postgres?.close(), servers?.scim?.close()]);
}

/** What a User is declared as: its department, and whether it has left (state: terminated). */
export interface Person {
  department: Department;
  terminated?: boolean;
}

export interface SystemAddresses {
  /** Where Rollcall reaches each system (a test may put a proxy in between); default: the server itself. */
  ldapUrl?: string;
  postgresPort?: number;
  scimBaseUrl?: string;
}

/** Systems, roles and bindings: the file that does not change while Users come and go. */
export function systemsManifest({ slapd, postgres, scim }: Servers, at: SystemAddresses = {}, extra: Partial<SpecOf<'ConnectedSystem'>> = {}): string {
  // Every leaver in one pass: the deletion guard is not what these suites are about.
  const common = {
    deprovision: { policy: 'disable' },
    orphans: 'report',
    deletionGuard: { maxCount: 100_000 },
    ...extra,
  } satisfies Partial<SpecOf<'ConnectedSystem'>>;
  const place = (name: string) => ({ name, namespace: NAMESPACE });
  return manifestsYaml([
    slapdCredentials(place('directory'), slapd),
    ldapSystem(place('directory'), slapd, { ...common, ldap: { url: at.ldapUrl ?? slapd.url, flavour: 'openldap' } }),
    postgresCredentials(place('db'), postgres),
    postgresSystem(place('db'), postgres, { ...common, postgres: { port: at.postgresPort ?? postgres.port } }),
    scimCredentials(place('wiki'), scim),
    scimSystem(place('wiki'), scim, { ...common, scim: { baseUrl: at.scimBaseUrl ?? scim.baseUrl } }),
    ...DEPARTMENTS.flatMap((d) => [
      accessRole(place(d), Object.fromEntries(SYSTEMS.map((system) => [system, [GRANTS[d][system]]]))),
      accessBinding(place(d), { userSelector: { matchLabels: { department: d } } }),
    ]),
  ]);
}

export function userManifest(name: string, person: Person): Manifest {
  return user(
    { name, namespace: NAMESPACE, labels: { department: person.department } },
    { givenName: name, familyName: 'Test', email: `${name}@example.org`, ...(person.terminated ? { state: 'terminated' } : {}) },
  );
}

/** Writes the Users into `files` files (so a change rewrites a small file, as a person would edit one). */
export function writeUsers(dir: string, people: ReadonlyMap<string, Person>, files = 10): void {
  const buckets: Manifest[][] = Array.from({ length: files }, () => []);
  let i = 0;
  for (const [name, person] of [...people].sort(([a], [b]) => a.localeCompare(b)))
    buckets[Math.floor((i++ * files) / people.size)]!.push(userManifest(name, person));
  buckets.forEach((users, n) => writeManifests(dir, `users-${String(n).padStart(2, '0')}.yaml`, users));
}

/** One account as a system holds it: enabled or not, and the groups (entitlements) it has there. */
export interface Held {
  enabled: boolean;
  groups: string[];
}

/** Every account of one system by name, and the names that occur more than once (duplicates). */
export interface Holdings {
  accounts: Map<string, Held>;
  duplicates: string[];
}

async function withLdap<T>({ slapd }: Pick<Servers, 'slapd'>, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url: slapd.url, timeout: 30_000 });
  await client.bind(slapd.adminDN, slapd.adminPassword);
  try {
    return await use(client);
  } finally {
    await client.unbind();
  }
}

const duplicatesOf = (names: string[]) => [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
const sorted = (values: string[]) => [...values].sort();

/** slapd: every entry under people; enabled = no ppolicy lock; groups = the cns of its memberOf. */
export async function ldapHoldings(servers: Pick<Servers, 'slapd'>): Promise<Holdings> {
  return withLdap(servers, async (client) => {
    const { searchEntries } = await client.search(servers.slapd.peopleDN, {
      scope: 'one',
      filter: '(uid=*)',
      attributes: ['uid', 'pwdAccountLockedTime', 'memberOf'],
      sizeLimit: 0,
      paged: { pageSize: 500 },
    });
    const names = searchEntries.map((e) => String(e.uid));
    const accounts = new Map<string, Held>();
    for (const e of searchEntries) {
      const groups = [e.memberOf]
        .flat()
        .filter(Boolean)
        .map((dn) => /^cn=([^,]+),/i.exec(String(dn))?.[1] ?? String(dn));
      accounts.set(String(e.uid), { enabled: [e.pwdAccountLockedTime].flat().filter(Boolean).length === 0, groups: sorted(groups) });
    }
    return { accounts, duplicates: duplicatesOf(names) };
  });
}

/** PostgreSQL: every role Rollcall manages for db (a member of its marker role); enabled = LOGIN; groups = its other memberships. */
export async function pgHoldings({ postgres }: Pick<Servers, 'postgres'>): Promise<Holdings> {
  const marker = `rollcall:${NAMESPACE}/db`;
  const { rows } = await adminQuery(
    postgres,
    `SELECT r.rolname::text AS name, r.rolcanlogin AS login,
            coalesce(array_agg(g.rolname::text ORDER BY g.rolname) FILTER (WHERE g.rolname <> $1), '{}') AS roles
       FROM pg_roles r
       JOIN pg_auth_members marker ON marker.member = r.oid AND marker.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)
       LEFT JOIN pg_auth_members m ON m.member = r.oid
       LEFT JOIN pg_roles g ON g.oid = m.roleid
      GROUP BY r.rolname, r.rolcanlogin`,
    [marker],
  );
  const accounts = new Map((rows as { name: string; login: boolean; roles: string[] }[]).map((r) => [r.name, { enabled: r.login, groups: sorted(r.roles) }]));
  return { accounts, duplicates: [] }; // role names are unique in a cluster
}

async function scimAll({ scim }: Pick<Servers, 'scim'>, resource: 'Users' | 'Groups'): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = [];
  for (let start = 1; ; start += 200) {
    const response = await fetch(`${scim.baseUrl}/${resource}?startIndex=${start}&count=200`, {
      headers: { authorization: `Bearer ${scim.token}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) throw new Error(`GET /${resource}: HTTP ${response.status}`);
    const page = (await response.json()) as { Resources?: Record<string, unknown>[]; totalResults?: number };
    all.push(...(page.Resources ?? []));
    if (!page.Resources?.length || all.length >= Number(page.totalResults)) return all;
  }
}

/** scim2-server: every User; enabled = active; groups = displayNames of the Groups listing it as a member. */
export async function scimHoldings(servers: Pick<Servers, 'scim'>): Promise<Holdings> {
  const [users, groups] = [await scimAll(servers, 'Users'), await scimAll(servers, 'Groups')];
  const memberOf = new Map<string, string[]>();
  for (const group of groups)
    for (const m of (group.members as { value: string }[] | undefined) ?? [])
      memberOf.set(m.value, [...(memberOf.get(m.value) ?? []), String(group.displayName)]);
  const names = users.map((u) => String(u.userName));
  const accounts = new Map(users.map((u) => [String(u.userName), { enabled: u.active !== false, groups: sorted(memberOf.get(String(u.id)) ?? []) }]));
  return { accounts, duplicates: duplicatesOf(names) };
}

export async function holdings(servers: Servers): Promise<Record<SystemName, Holdings>> {
  const [directory, db, wiki] = await Promise.all([ldapHoldings(servers), pgHoldings(servers), scimHoldings(servers)]);
  return { directory, db, wiki };
}

/**
 * Whether a system's account is what the person should have there: declared active, enabled with
 * exactly its department's group; terminated or no longer declared, absent or disabled without groups.
 */
export function matches(account: Held | undefined, person: Person | undefined, system: SystemName): boolean {
  if (!person || person.terminated) return account === undefined || (!account.enabled && account.groups.length === 0);
  return account !== undefined && account.enabled && account.groups.length === 1 && account.groups[0] === GRANTS[person.department][system];
}

/** The names in `people` whose account in each of `systems` is not (yet) as declared. */
export function unconverged(now: Partial<Record<SystemName, Holdings>>, people: ReadonlyMap<string, Person>, systems: readonly SystemName[]): string[] {
  return [...people].filter(([name, person]) => !systems.every((system) => matches(now[system]!.accounts.get(name), person, system))).map(([name]) => name);
}

/** What the named systems hold (the others are not read: one of them may be down). */
export async function holdingsOf(servers: Servers, systems: readonly SystemName[]): Promise<Partial<Record<SystemName, Holdings>>> {
  const read = { directory: ldapHoldings, db: pgHoldings, wiki: scimHoldings } as const;
  return Object.fromEntries(await Promise.all(systems.map(async (s) => [s, await read[s](servers)] as const)));
}
