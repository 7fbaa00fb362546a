// The raw baseline: the writes Rollcall makes for a joiner (create the account, grant its 2 groups)
// issued directly with the same client libraries (ldapts, pg, fetch), 4 at a time per system (the
// Manager's per-system concurrency), the three systems side by side, against fresh servers. No
// reads before writing, no status, no API server: what a one-off script would do.
import { Attribute, Change, Client } from 'ldapts';
import pg from 'pg';
import { openProbes, mismatches } from './probes/index.ts';
import { eachLimit, now } from './pool.ts';
import { startSystems } from './servers.ts';
import {
  allGroups,
  Declared,
  departmentGroups,
  departmentOf,
  ldapGroupsOu,
  ldapMarker,
  ldapPeopleOu,
  pgMarker,
  scimMarker,
  userName,
  type Endpoints,
  type Scope,
  type SystemKind,
} from './world.ts';

export const CONCURRENCY = 4;

export interface RawResult {
  /** Wall time of the three systems side by side. */
  totalMs: number;
  perSystemMs: Partial<Record<SystemKind, number>>;
  writes: number;
  mismatches: Partial<Record<SystemKind, { count: number; examples: string[] }>>;
}

interface Joiner {
  name: string;
  index: number;
  groups: string[];
}

export async function rawBaseline(users: number, kinds: SystemKind[]): Promise<RawResult> {
  const systems = await startSystems();
  const scope: Scope = { tag: 'r', namespace: 'raw', systems: kinds };
  const endpoints = endpointsOf(systems);
  const probes = openProbes(endpoints, scope);
  try {
    await Promise.all(kinds.map((kind) => probes.all[kind].prepare(allGroups(scope))));
    const joiners: Joiner[] = Array.from({ length: users }, (_, i) => ({
      name: userName(scope, i),
      index: i,
      groups: departmentGroups(scope, departmentOf(i)),
    }));
    const perSystemMs: Partial<Record<SystemKind, number>> = {};
    const timed = async (kind: SystemKind, run: () => Promise<void>) => {
      const start = now();
      await run();
      perSystemMs[kind] = now() - start;
    };
    const start = now();
    const writers: Record<SystemKind, () => Promise<void>> = {
      ldap: () => rawLdap(endpoints.ldap, scope, joiners),
      postgres: () => rawPostgres(endpoints.postgres, scope, joiners),
      scim: () => rawScim(endpoints.scim, scope, joiners),
    };
    await Promise.all(kinds.map((kind) => timed(kind, writers[kind])));
    const totalMs = now() - start;
    const expected = new Declared(scope, users).expected(scope);
    const found: RawResult['mismatches'] = {};
    for (const kind of kinds) found[kind] = mismatches(expected, await probes.all[kind].accounts());
    return { totalMs, perSystemMs, writes: users * 3 * kinds.length, mismatches: found };
  } finally {
    await probes.close();
    await systems.close();
  }
}

export function endpointsOf(systems: Awaited<ReturnType<typeof startSystems>>): Endpoints {
  const { slapd, postgres, scim } = systems;
  return {
    ldap: { url: slapd.url, adminDN: slapd.adminDN, adminPassword: slapd.adminPassword, suffix: slapd.suffix },
    postgres: { host: postgres.host, port: postgres.port, adminUser: postgres.adminUser, adminPassword: postgres.adminPassword },
    scim: { baseUrl: scim.baseUrl, token: scim.token },
  };
}

const displayName = (j: Joiner) => `Given${j.index} Family${j.index}`;

async function rawLdap(endpoint: Endpoints['ldap'], scope: Scope, joiners: Joiner[]): Promise<void> {
  const people = `ou=${ldapPeopleOu(scope)},${endpoint.suffix}`;
  const groups = `ou=${ldapGroupsOu(scope)},${endpoint.suffix}`;
  const clients = await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const client = new Client({ url: endpoint.url, timeout: 60_000 });
      await client.bind(endpoint.adminDN, endpoint.adminPassword);
      return client;
    }),
  );
  let nextClient = 0;
  try {
    await eachLimit(joiners, CONCURRENCY, async (j) => {
      const client = clients[nextClient++ % CONCURRENCY]!;
      const dn = `uid=${j.name},${people}`;
      await client.add(dn, {
        objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
        uid: j.name,
        cn: displayName(j),
        sn: `Family${j.index}`,
        givenName: `Given${j.index}`,
        displayName: displayName(j),
        mail: `${j.name}@bench.example`,
        departmentNumber: `d${departmentOf(j.index)}`,
        title: 'Engineer',
        businessCategory: ldapMarker(scope),
      });
      for (const group of j.groups) {
        await client.modify(`cn=${group},${groups}`, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn] }) }));
      }
    });
  } finally {
    await Promise.all(clients.map((c) => c.unbind().catch(() => undefined)));
  }
}

async function rawPostgres(endpoint: Endpoints['postgres'], scope: Scope, joiners: Joiner[]): Promise<void> {
  const pool = new pg.Pool({
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.adminUser,
    password: endpoint.adminPassword,
    database: 'postgres',
    max: CONCURRENCY,
  });
  const id = pg.escapeIdentifier;
  try {
    await eachLimit(joiners, CONCURRENCY, async (j) => {
      await pool.query(`CREATE ROLE ${id(j.name)} LOGIN IN ROLE ${id(pgMarker(scope))}`);
      await pool.query(`COMMENT ON ROLE ${id(j.name)} IS ${pg.escapeLiteral(displayName(j))}`);
      for (const group of j.groups) await pool.query(`GRANT ${id(group)} TO ${id(j.name)}`);
    });
  } finally {
    await pool.end();
  }
}

async function rawScim(endpoint: Endpoints['scim'], scope: Scope, joiners: Joiner[]): Promise<void> {
  const send = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${endpoint.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`SCIM ${method} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`);
    return (text ? JSON.parse(text) : {}) as { id: string };
  };
  const groupIds = new Map<string, string>();
  const listing = await fetch(`${endpoint.baseUrl}/Groups?attributes=displayName&count=1000`, { headers: { authorization: `Bearer ${endpoint.token}` } });
  for (const group of ((await listing.json()) as { Resources: { id: string; displayName: string }[] }).Resources) groupIds.set(group.displayName, group.id);
  await eachLimit(joiners, CONCURRENCY, async (j) => {
    const { id } = await send('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: j.name,
      externalId: scimMarker(scope, j.name),
      name: { givenName: `Given${j.index}`, familyName: `Family${j.index}` },
      displayName: displayName(j),
      emails: [{ value: `${j.name}@bench.example`, primary: true, type: 'work' }],
      title: 'Engineer',
      active: true,
    });
    for (const group of j.groups) {
      await send('PATCH', `/Groups/${groupIds.get(group)}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
      });
    }
  });
}
