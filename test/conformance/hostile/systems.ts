// The three real servers of the hostile-input suite (slapd, PostgreSQL, scim2-server), each read
// and reset with its own client, never through Rollcall's connectors: what the suite asserts is
// what the server holds.
import { Client, type Entry } from 'ldapts';
import pg from 'pg';
import { EMPTY_GROUP_PLACEHOLDER } from '../../../src/connectors/ldap/index.ts';
import { escapeDNValue } from '../../../src/connectors/ldap/escape.ts';
import { startPostgres, type PostgresServer } from '../../servers/postgres.ts';
import { start as startScim, type ScimServer } from '../../servers/scim.ts';
import { start as startSlapd, type SlapdServer } from '../../servers/slapd.ts';

export const NAMESPACE = 'acme';
export const SYSTEMS = { ldap: 'corp-ldap', postgres: 'analytics-db', scim: 'wiki' } as const;
export type SystemKind = keyof typeof SYSTEMS;
export const SYSTEM_KINDS = Object.keys(SYSTEMS) as SystemKind[];

/** The groups every test starts with, in every system: what the bystanders' role grants. */
export const BASELINE_GROUPS = ['engineering', 'vpn-users', 'staff'];
/** A role and a table nobody declares: an injected statement would drop or change them. */
const PG_CANARIES = ['CREATE ROLE canary NOLOGIN', 'CREATE TABLE canary (id int)', 'INSERT INTO canary VALUES (1)'];
const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/** What a system holds, as plain data: equal snapshots mean nothing changed. */
export type Snapshot = Record<SystemKind, unknown>;

/** One account read back from a system: its attributes by the system's own names, and its groups. */
export interface StoredAccount {
  attributes: Record<string, string[]>;
  groups: string[];
}

export class HostileSystems {
  readonly slapd: SlapdServer;
  readonly postgres: PostgresServer;
  readonly scim: ScimServer;

  private constructor(slapd: SlapdServer, postgres: PostgresServer, scim: ScimServer) {
    this.slapd = slapd;
    this.postgres = postgres;
    this.scim = scim;
  }

  static async start(): Promise<HostileSystems> {
    const [slapd, postgres, scim] = await Promise.all([startSlapd(), startPostgres(), startScim()]);
    const systems = new HostileSystems(slapd, postgres, scim);
    await systems.sql(PG_CANARIES.join('; '));
    await systems.reset();
    return systems;
  }

  async close(): Promise<void> {
    await Promise.all([this.slapd?.close(), this.postgres?.close(), this.scim?.close()]);
  }

  /** The Secrets and ConnectedSystems of the three servers. */
  manifests(): string {
    const secret = (name: string, data: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: NAMESPACE, labels: { 'rollcall.dev/credentials': 'true' }, annotations: { 'rollcall.dev/allow-insecure': 'true' } },
      stringData: data,
    });
    const system = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'rollcall.dev/v1alpha1',
      kind: 'ConnectedSystem',
      metadata: { name, namespace: NAMESPACE },
      spec,
    });
    const { slapd, postgres, scim } = this;
    return [
      secret('ldap-credentials', { bindDN: slapd.adminDN, password: slapd.adminPassword }),
      system(SYSTEMS.ldap, {
        type: 'ldap',
        insecure: true,
        allowPrivateNetwork: true,
        credentialsSecretRef: { name: 'ldap-credentials' },
        // attributes.location reaches LDAP too, as l.
        ldap: { url: slapd.url, peopleDN: slapd.peopleDN, groupsDN: slapd.groupsDN, attributeMap: { location: 'l' } },
      }),
      secret('postgres-credentials', { username: postgres.adminUser, password: postgres.adminPassword }),
      system(SYSTEMS.postgres, {
        type: 'postgres',
        insecure: true,
        allowPrivateNetwork: true,
        credentialsSecretRef: { name: 'postgres-credentials' },
        postgres: { host: postgres.host, port: postgres.port, database: 'postgres', ssl: 'disable' },
      }),
      secret('scim-credentials', { token: scim.token }),
      system(SYSTEMS.scim, {
        type: 'scim',
        insecure: true,
        allowPrivateNetwork: true,
        credentialsSecretRef: { name: 'scim-credentials' },
        scim: { baseUrl: scim.baseUrl },
      }),
    ]
      .map((document) => JSON.stringify(document))
      .join('\n---\n');
  }

  // ---- reset and groups

  /** Back to the baseline: no accounts, only the baseline groups (each empty), the canaries untouched. */
  async reset(): Promise<void> {
    await Promise.all([this.#resetLdap(), this.#resetPostgres(), this.#resetScim()]);
  }

  /** Makes a group named exactly `name` in one system; false when the server refuses the name. */
  async createGroup(kind: SystemKind, name: string): Promise<boolean> {
    try {
      if (kind === 'ldap')
        await this.ldap((client) =>
          client.add(`cn=${escapeDNValue(name)},${this.slapd.groupsDN}`, { objectClass: ['groupOfNames'], cn: name, member: [EMPTY_GROUP_PLACEHOLDER] }),
        );
      else if (kind === 'postgres') await this.sql((client) => `CREATE ROLE ${client.escapeIdentifier(name)} NOLOGIN`);
      else await this.scimCall('POST', '/Groups', { schemas: [SCIM_GROUP], displayName: name });
      return true;
    } catch {
      return false;
    }
  }

  async #resetLdap(): Promise<void> {
    await this.ldap(async (client) => {
      for (const base of [this.slapd.peopleDN, this.slapd.groupsDN]) {
        const { searchEntries } = await client.search(base, { scope: 'one', attributes: ['1.1'] });
        for (const entry of searchEntries) await client.del(entry.dn);
      }
      for (const group of BASELINE_GROUPS) {
        await client.add(`cn=${group},${this.slapd.groupsDN}`, { objectClass: ['groupOfNames'], cn: group, member: [EMPTY_GROUP_PLACEHOLDER] });
      }
    });
  }

  async #resetPostgres(): Promise<void> {
    // Every role but the server's own, the canary and the marker roles Rollcall made (kept, so each
    // run starts like a later run, not a first one).
    const roles = await this.query<{ rolname: string }>(
      "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' AND rolname NOT IN ('postgres', 'canary') AND rolname NOT LIKE 'rollcall:%'",
    );
    await this.sql((client) => roles.map((row) => `DROP ROLE ${client.escapeIdentifier(row.rolname)}`).join('; '));
    await this.sql((client) => BASELINE_GROUPS.map((group) => `CREATE ROLE ${client.escapeIdentifier(group)} NOLOGIN`).join('; '));
  }

  async #resetScim(): Promise<void> {
    for (const resource of ['Users', 'Groups'] as const) {
      for (const item of await this.scimList(resource)) await this.scimCall('DELETE', `/${resource}/${encodeURIComponent(item.id as string)}`);
    }
    for (const group of BASELINE_GROUPS) await this.scimCall('POST', '/Groups', { schemas: [SCIM_GROUP], displayName: group });
  }

  // ---- reading back

  /** Everything each server holds that a test could change, ids and timestamps left out. */
  async snapshot(): Promise<Snapshot> {
    const [ldap, postgres, scim] = await Promise.all([this.#ldapSnapshot(), this.#postgresSnapshot(), this.#scimSnapshot()]);
    return { ldap, postgres, scim };
  }

  async #ldapSnapshot(): Promise<unknown> {
    return this.ldap(async (client) => {
      const { searchEntries } = await client.search(this.slapd.suffix, { scope: 'sub', attributes: ['*'] });
      return searchEntries.map(plainEntry).sort((a, b) => (a.dn < b.dn ? -1 : 1));
    });
  }

  async #postgresSnapshot(): Promise<unknown> {
    const roles = await this.query(
      "SELECT rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolinherit, shobj_description(oid, 'pg_authid') AS comment FROM pg_roles ORDER BY rolname",
    );
    const members = await this.query(
      'SELECT g.rolname AS role, m.rolname AS member, a.admin_option FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member ORDER BY 1, 2',
    );
    const tables = await this.query("SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2");
    const canary = await this.query('SELECT id FROM canary ORDER BY id');
    return { roles, members, tables, canary };
  }

  async #scimSnapshot(): Promise<unknown> {
    const users = await this.scimList('Users');
    const nameOf = new Map(users.map((user) => [user.id as string, user.userName as string]));
    const groups = (await this.scimList('Groups')).map((group) => ({
      ...withoutMeta(group),
      members: ((group.members ?? []) as { value: string }[]).map((member) => nameOf.get(member.value) ?? member.value).sort(),
    }));
    return { users: users.map(withoutMeta).sort(byKey('userName')), groups: groups.sort(byKey('displayName')) };
  }

  /** Every account in one system, by user name, as that system holds it (groups by their stored names). */
  async accounts(kind: SystemKind): Promise<Map<string, StoredAccount>> {
    const accounts = new Map<string, StoredAccount>();
    if (kind === 'ldap') {
      await this.ldap(async (client) => {
        const { searchEntries: people } = await client.search(this.slapd.peopleDN, { scope: 'one', attributes: ['*'] });
        const { searchEntries: groups } = await client.search(this.slapd.groupsDN, { scope: 'one', attributes: ['cn', 'member'] });
        for (const entry of people) {
          const { attributes } = plainEntry(entry);
          const dn = entry.dn.toLowerCase();
          const memberOf = groups.filter((group) => plainEntry(group).attributes.member?.some((member) => member.toLowerCase() === dn));
          accounts.set(attributes.uid![0]!, { attributes, groups: memberOf.map((group) => plainEntry(group).attributes.cn![0]!).sort() });
        }
      });
    } else if (kind === 'postgres') {
      const roles = await this.query<{ rolname: string; rolcanlogin: boolean; comment: string | null }>(
        "SELECT rolname, rolcanlogin, shobj_description(oid, 'pg_authid') AS comment FROM pg_roles",
      );
      const members = await this.query<{ role: string; member: string }>(
        "SELECT g.rolname AS role, m.rolname AS member FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member WHERE g.rolname NOT LIKE 'rollcall:%' ORDER BY 1",
      );
      for (const role of roles) {
        const attributes: Record<string, string[]> = { rolname: [role.rolname], rolcanlogin: [String(role.rolcanlogin)] };
        if (role.comment !== null) attributes.comment = [role.comment];
        accounts.set(role.rolname, {
          attributes,
          groups: members
            .filter((row) => row.member === role.rolname)
            .map((row) => row.role)
            .sort(),
        });
      }
    } else {
      const groups = await this.scimList('Groups');
      for (const user of await this.scimList('Users')) {
        const memberOf = groups.filter((group) => ((group.members ?? []) as { value: string }[]).some((member) => member.value === user.id));
        accounts.set(String(user.userName), { attributes: scimAttributes(user), groups: memberOf.map((group) => group.displayName as string).sort() });
      }
    }
    return accounts;
  }

  // ---- clients

  async ldap<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ url: this.slapd.url, timeout: 10_000, connectTimeout: 5_000 });
    await client.bind(this.slapd.adminDN, this.slapd.adminPassword);
    try {
      return await fn(client);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  async query<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
    return this.#withPg(async (client) => (await client.query(text, values)).rows as T[]);
  }

  /** Runs DDL built with the client's own quoting (DDL takes no parameters). */
  async sql(text: string | ((client: pg.Client) => string)): Promise<void> {
    await this.#withPg(async (client) => {
      const statement = typeof text === 'string' ? text : text(client);
      if (statement.trim() !== '') await client.query(statement);
    });
  }

  async #withPg<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const { host, port, adminUser, adminPassword } = this.postgres;
    const client = new pg.Client({ host, port, user: adminUser, password: adminPassword, database: 'postgres' });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  async scimCall(method: string, path: string, body?: unknown): Promise<Record<string, unknown> | undefined> {
    const response = await fetch(`${this.scim.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.scim.token}`, 'content-type': 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`SCIM ${method} ${path}: HTTP ${response.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  }

  async scimList(resource: 'Users' | 'Groups'): Promise<Record<string, unknown>[]> {
    const all: Record<string, unknown>[] = [];
    for (let start = 1; ; start += 500) {
      const page = (await this.scimCall('GET', `/${resource}?startIndex=${start}&count=500`)) as {
        Resources?: Record<string, unknown>[];
        totalResults: number;
      };
      all.push(...(page.Resources ?? []));
      if (!page.Resources?.length || all.length >= page.totalResults) return all;
    }
  }
}

/** An ldapts entry as sorted arrays of strings per lower-cased attribute name. */
function plainEntry(entry: Entry): { dn: string; attributes: Record<string, string[]> } {
  const attributes: Record<string, string[]> = {};
  for (const [key, raw] of Object.entries(entry)) {
    if (key === 'dn') continue;
    const list = Array.isArray(raw) ? raw : [raw];
    attributes[key.toLowerCase()] = list.map((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value))).sort();
  }
  return { dn: entry.dn, attributes };
}

function withoutMeta(resource: Record<string, unknown>): Record<string, unknown> {
  const { meta: _meta, ...rest } = resource;
  return rest;
}

function byKey(key: string) {
  return (a: Record<string, unknown>, b: Record<string, unknown>) => (String(a[key]) < String(b[key]) ? -1 : 1);
}

/** The SCIM User's values that Rollcall writes, by SCIM path. */
function scimAttributes(user: Record<string, unknown>): Record<string, string[]> {
  const out: Record<string, string[]> = { userName: [String(user.userName)] };
  const name = (user.name ?? {}) as Record<string, string>;
  const put = (path: string, value: unknown) => {
    if (typeof value === 'string') out[path] = [value];
  };
  put('name.givenName', name.givenName);
  put('name.familyName', name.familyName);
  put('displayName', user.displayName);
  put('title', user.title);
  put('userType', user.userType);
  const emails = (user.emails ?? []) as { value: string; primary?: boolean }[];
  if (emails.length) out.emails = emails.map((email) => email.value);
  const enterprise = (user['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'] ?? {}) as Record<string, unknown>;
  put('employeeNumber', enterprise.employeeNumber);
  put('department', enterprise.department);
  out.active = [String(user.active)];
  return out;
}
