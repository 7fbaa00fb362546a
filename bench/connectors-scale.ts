// The LDAP and PostgreSQL connectors at scale, against the same writes issued with the plain client:
// `node bench/connectors-scale.ts [accounts] [rounds]` (default 2,000 and 3). Real slapd and PostgreSQL from
// test/servers. Two parts:
//  - requests per change, read off the wire by a counting proxy (test/helpers/wire-counter.ts), one change
//    at a time so each is counted alone: create, grant, the read-back the controllers do after
//    writing, and a user's whole first sync (create, two grants, read-back);
//  - wall time to create `accounts` accounts with 2 groups each, 4 at a time (the Manager's default
//    per-system concurrency), through the connector and with pg / ldapts directly, without the proxy;
//    the best of `rounds` runs of each, taken in turn.
import { performance } from 'node:perf_hooks';
import { Attribute, Change, Client } from 'ldapts';
import pg from 'pg';
import { pino } from 'pino';
import { connectedSystemSpec, type AccountChange } from '../src/api/index.ts';
import { EMPTY_GROUP_PLACEHOLDER, escapeDNValue } from '../src/connectors/ldap/index.ts';
import { connectorFactory } from '../src/connectors/registry.ts';
import type { Connector } from '../src/connectors/types.ts';
import { startPostgres, type PostgresServer } from '../test/servers/postgres.ts';
import { start as startSlapd, type SlapdServer } from '../test/servers/slapd.ts';
import { formatMs } from './measure.ts';
import { startWireCounter, type WireCounter } from '../test/helpers/wire-counter.ts';

const ACCOUNTS = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 3);
const COUNTED_USERS = 50;
const CONCURRENCY = 4;
// The marker Rollcall gives each bench system's accounts: its own, named after the system.
const MARKER = 'rollcall:bench/postgres';
const LDAP_MARKER = 'rollcall:bench/ldap';
const signal = new AbortController().signal;
const logger = pino({ level: 'silent' });

/** One system under test: the connector's changes and the equivalent plain-client writes. */
interface Side {
  name: string;
  connector(port: number): Promise<Connector>;
  /** Fresh groups for one run, so every run starts from the same group sizes. */
  groups(run: string): Promise<[string, string]>;
  raw(port: number): Promise<{ create(userName: string, groups: [string, string]): Promise<void>; close(): Promise<void> }>;
  /** How many of `userNames` hold both groups, asked of the server directly. */
  granted(userNames: string[], groups: [string, string]): Promise<number>;
  port: number;
  protocol: 'ldap' | 'postgres';
}

const desired = (userName: string): AccountChange => ({
  op: 'create',
  account: { system: 'bench', userName, state: 'present', attributes: { displayName: `User ${userName}`, familyName: 'Bench' }, entitlements: [] },
});

async function inParallel(items: string[], concurrency: number, work: (item: string) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function ldapSide(server: SlapdServer, admin: Client): Side {
  const port = Number(new URL(server.url).port);
  const userDN = (userName: string) => `uid=${escapeDNValue(userName)},${server.peopleDN}`;
  const groupDN = (name: string) => `cn=${escapeDNValue(name)},${server.groupsDN}`;
  return {
    name: 'ldap (OpenLDAP)',
    protocol: 'ldap',
    port,
    connector: async (at) =>
      (await connectorFactory('ldap'))({
        system: 'bench/ldap',
        namespace: 'bench',
        spec: connectedSystemSpec.parse({
          type: 'ldap',
          insecure: true,
          allowPrivateNetwork: true,
          ldap: { url: `ldap://127.0.0.1:${at}`, peopleDN: server.peopleDN, groupsDN: server.groupsDN },
        }),
        credentials: { bindDN: server.adminDN, password: server.adminPassword },
        logger,
      }),
    groups: async (run) => {
      const names: [string, string] = [`${run}-a`, `${run}-b`];
      for (const name of names) await admin.add(groupDN(name), { objectClass: ['groupOfNames'], cn: name, member: EMPTY_GROUP_PLACEHOLDER });
      return names;
    },
    raw: async (at) => {
      const client = new Client({ url: `ldap://127.0.0.1:${at}` });
      await client.bind(server.adminDN, server.adminPassword);
      return {
        async create(userName, groups) {
          await client.add(userDN(userName), {
            objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
            uid: userName,
            cn: `User ${userName}`,
            sn: 'Bench',
            displayName: `User ${userName}`,
            businessCategory: LDAP_MARKER,
          });
          for (const group of groups) {
            await client.modify(groupDN(group), new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [userDN(userName)] }) }));
          }
        },
        close: () => client.unbind(),
      };
    },
    granted: async (userNames, groups) => {
      const held = new Map<string, number>();
      for (const group of groups) {
        const { searchEntries } = await admin.search(groupDN(group), { scope: 'base', attributes: ['member'] });
        for (const dn of [searchEntries[0]?.['member'] ?? []].flat()) held.set(String(dn).toLowerCase(), (held.get(String(dn).toLowerCase()) ?? 0) + 1);
      }
      return userNames.filter((name) => held.get(userDN(name).toLowerCase()) === 2).length;
    },
  };
}

function postgresSide(server: PostgresServer, admin: pg.Client): Side {
  const credentials = { username: server.adminUser, password: server.adminPassword };
  return {
    name: 'postgres',
    protocol: 'postgres',
    port: server.port,
    connector: async (at) =>
      (await connectorFactory('postgres'))({
        system: 'bench/postgres',
        namespace: 'bench',
        spec: connectedSystemSpec.parse({
          type: 'postgres',
          insecure: true,
          allowPrivateNetwork: true,
          postgres: { host: server.host, port: at, ssl: 'disable' },
          credentialsSecretRef: { name: 'pg' },
        }),
        credentials,
        logger,
      }),
    groups: async (run) => {
      const names: [string, string] = [`${run}_a`, `${run}_b`];
      for (const name of names) await admin.query(`CREATE ROLE ${pg.escapeIdentifier(name)} NOLOGIN`);
      return names;
    },
    raw: async (at) => {
      const pool = new pg.Pool({
        host: server.host,
        port: at,
        database: 'postgres',
        user: credentials.username,
        password: credentials.password,
        max: CONCURRENCY,
      });
      return {
        async create(userName, groups) {
          const role = pg.escapeIdentifier(userName);
          await pool.query(`CREATE ROLE ${role} LOGIN IN ROLE ${pg.escapeIdentifier(MARKER)}`);
          await pool.query(`COMMENT ON ROLE ${role} IS ${pg.escapeLiteral(`User ${userName}`)}`);
          for (const group of groups) await pool.query(`GRANT ${pg.escapeIdentifier(group)} TO ${role}`);
        },
        close: () => pool.end(),
      };
    },
    granted: async (userNames, groups) => {
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM pg_roles r WHERE r.rolname = ANY($1) AND r.rolcanlogin
           AND (SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid AND g.rolname = ANY($2)) = 2`,
        [userNames, groups],
      );
      return rows[0].n;
    },
  };
}

const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** What the controllers do for a new user: create, grant each group, then read the account back. */
async function firstSync(connector: Connector, userName: string, groups: [string, string], readBack: boolean): Promise<void> {
  await connector.apply(desired(userName), signal);
  for (const entitlement of groups) await connector.apply({ op: 'grant', userName, entitlement }, signal);
  if (readBack) await connector.getAccount(userName, signal);
}

function requests(counts: Record<string, number>, protocol: Side['protocol']): number {
  if (protocol === 'postgres') return counts['roundTrips'] ?? 0;
  return Object.entries(counts)
    .filter(([kind]) => kind !== 'bind' && kind !== 'unbind')
    .reduce((sum, [, n]) => sum + n, 0);
}

function describeCounts(counts: Record<string, number>, per: number, protocol: Side['protocol']): string {
  const kinds = Object.entries(counts)
    .filter(([kind]) => kind !== 'bind' && kind !== 'unbind' && kind !== 'roundTrips')
    .map(([kind, n]) => `${kind} ${+(n / per).toFixed(2)}`);
  return `${+(requests(counts, protocol) / per).toFixed(2)} ${protocol === 'postgres' ? 'round trips' : 'operations'} (${kinds.join(', ')})`;
}

async function countRequests(side: Side): Promise<string[]> {
  const counter: WireCounter = await startWireCounter(side.protocol, { host: '127.0.0.1', port: side.port });
  const lines: string[] = [];
  try {
    const connector = await side.connector(counter.port);
    const groups = await side.groups('counted');
    const byStep = new Map<string, Record<string, number>>();
    const step = async (name: string, run: () => Promise<unknown>) => {
      const before = counter.counts();
      await run();
      const total = byStep.get(name) ?? {};
      for (const [kind, n] of Object.entries(counter.counts())) total[kind] = (total[kind] ?? 0) + n - (before[kind] ?? 0);
      byStep.set(name, total);
    };
    try {
      await connector.check(signal);
      for (const userName of names('counted', COUNTED_USERS)) {
        await step('create', () => connector.apply(desired(userName), signal));
        for (const entitlement of groups) await step('grant', () => connector.apply({ op: 'grant', userName, entitlement }, signal));
        await step('read-back (getAccount)', () => connector.getAccount(userName, signal));
      }
    } finally {
      await connector.close();
    }
    const perUser: Record<string, number> = {};
    for (const [name, counts] of byStep) {
      const per = name === 'grant' ? COUNTED_USERS * 2 : COUNTED_USERS;
      lines.push(`  connector ${name}: ${describeCounts(counts, per, side.protocol)}`);
      for (const [kind, n] of Object.entries(counts)) perUser[kind] = (perUser[kind] ?? 0) + n;
    }
    lines.push(`  connector, a user's first sync (create, 2 grants, read-back): ${describeCounts(perUser, COUNTED_USERS, side.protocol)}`);
    const rawGroups = await side.groups('counted-raw');
    const raw = await side.raw(counter.port);
    counter.reset();
    for (const userName of names('countedraw', COUNTED_USERS)) await raw.create(userName, rawGroups);
    lines.push(`  plain client, create + 2 grants: ${describeCounts(counter.counts(), COUNTED_USERS, side.protocol)}`);
    await raw.close();
  } finally {
    await counter.close();
  }
  return lines;
}

async function time(side: Side, label: string, users: string[], run: (userName: string) => Promise<void>, groups: [string, string]): Promise<number> {
  const started = performance.now();
  await inParallel(users, CONCURRENCY, run);
  const ms = performance.now() - started;
  const held = await side.granted(users, groups);
  if (held !== users.length) throw new Error(`${side.name} ${label}: only ${held} of ${users.length} accounts hold both groups`);
  return ms;
}

/** Best of ROUNDS, each case in turn within a round: the machine is shared, and others' load only ever adds time. */
async function timeSide(side: Side): Promise<string[]> {
  const connector = await side.connector(side.port);
  const client = await side.raw(side.port);
  const samples = { raw: [] as number[], writes: [] as number[], withReadBack: [] as number[] };
  try {
    await connector.check(signal);
    for (let round = 0; round < ROUNDS; round++) {
      const rawGroups = await side.groups(`timed-raw${round}`);
      samples.raw.push(await time(side, 'plain client', names(`tr${round}-`, ACCOUNTS), (u) => client.create(u, rawGroups), rawGroups));
      const writeGroups = await side.groups(`timed-writes${round}`);
      samples.writes.push(await time(side, 'connector', names(`tw${round}-`, ACCOUNTS), (u) => firstSync(connector, u, writeGroups, false), writeGroups));
      const syncGroups = await side.groups(`timed-sync${round}`);
      samples.withReadBack.push(
        await time(side, 'connector + read-back', names(`ts${round}-`, ACCOUNTS), (u) => firstSync(connector, u, syncGroups, true), syncGroups),
      );
    }
  } finally {
    await connector.close();
    await client.close();
  }
  const best = (values: number[]) => Math.min(...values);
  const all = (values: number[]) => `best of ${values.length}: ${values.map(formatMs).join(', ')}`;
  const raw = best(samples.raw);
  return [
    `  plain client, create + 2 grants: ${formatMs(raw)} (${all(samples.raw)})`,
    `  connector, create + 2 grants: ${formatMs(best(samples.writes))}, ${(best(samples.writes) / raw).toFixed(2)}× the plain client (${all(samples.writes)})`,
    `  connector, create + 2 grants + read-back: ${formatMs(best(samples.withReadBack))}, ${(best(samples.withReadBack) / raw).toFixed(2)}× the plain client (${all(samples.withReadBack)})`,
  ];
}

const slapd = await startSlapd();
const postgres = await startPostgres();
const ldapAdmin = new Client({ url: slapd.url });
const pgAdmin = new pg.Client({ host: postgres.host, port: postgres.port, user: postgres.adminUser, password: postgres.adminPassword, database: 'postgres' });
try {
  await ldapAdmin.bind(slapd.adminDN, slapd.adminPassword);
  await pgAdmin.connect();
  await pgAdmin.query(
    `CREATE ROLE ${pg.escapeIdentifier(MARKER)} NOLOGIN; COMMENT ON ROLE ${pg.escapeIdentifier(MARKER)} IS 'rollcall.dev/marker-of=bench/postgres'`,
  );
  console.log(
    `Node ${process.version}; ${ACCOUNTS} accounts with 2 groups each, ${CONCURRENCY} at a time, best of ${ROUNDS}; requests counted over ${COUNTED_USERS} users, one change at a time`,
  );
  for (const side of [ldapSide(slapd, ldapAdmin), postgresSide(postgres, pgAdmin)]) {
    console.log(`${side.name}: requests`);
    for (const line of await countRequests(side)) console.log(line);
    console.log(`${side.name}: wall time, ${ACCOUNTS} accounts`);
    for (const line of await timeSide(side)) console.log(line);
  }
} finally {
  await ldapAdmin.unbind().catch(() => undefined);
  await pgAdmin.end().catch(() => undefined);
  await slapd.close();
  await postgres.close();
}
