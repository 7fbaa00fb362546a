// Ownership on shared backends: two ConnectedSystems in two namespaces on one slapd, one PostgreSQL,
// one SCIM server and one sqlite file never list or touch each other's accounts; an account without
// a marker is adopted only when spec.adoption says so; accounts carrying the marker every system
// shared before are claimed by the first system that declares them. Asserted on the servers' own data.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Attribute, Change, Client } from 'ldapts';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedSystemSpec, PermanentError, type AdoptionPolicy, type DesiredAccount, type ObservedAccount, type SystemType } from '../../src/api/index.ts';
import { accountPlan, planOrphans } from '../../src/engine/index.ts';
import { connectorFactory } from '../../src/connectors/registry.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { start as startSlapd } from '../servers/slapd.ts';
import { startPostgres, adminQuery } from '../servers/postgres.ts';
import { start as startScim } from '../servers/scim.ts';
import { user } from '../unit/engine/fixtures.ts';
import { rawClient } from './scim.target.ts';

const logger = pino({ level: 'silent' });
const signal = () => AbortSignal.timeout(15_000);
const A = 'team-a/directory';
const B = 'team-b/directory';

interface Backend {
  type: SystemType;
  /** spec.<type> of both systems. */
  settings: Record<string, unknown>;
  credentials: Record<string, string>;
  /** A group both systems may grant. */
  group: string;
  /** An account created out of band, without any marker, holding `group`. */
  addUnmanaged(userName: string, email: string): Promise<void>;
  /** An account as Rollcall before per-system markers left it, holding `group`. */
  addLegacy(userName: string): Promise<void>;
  /** The raw marker(s) on the account, as the server holds them; undefined when it is gone. */
  markerOf(userName: string): Promise<string[] | undefined>;
  close(): Promise<void>;
}

async function slapdBackend(): Promise<Backend> {
  const server = await startSlapd();
  const admin = new Client({ url: server.url });
  await admin.bind(server.adminDN, server.adminPassword);
  const dn = (userName: string) => `uid=${userName},${server.peopleDN}`;
  const add = async (userName: string, extra: Record<string, string>) => {
    await admin.add(dn(userName), { objectClass: ['inetOrgPerson'], uid: userName, cn: userName, sn: userName, ...extra });
    await admin.modify(`cn=engineering,${server.groupsDN}`, [
      new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn(userName)] }) }),
    ]);
  };
  return {
    type: 'ldap',
    settings: { url: server.url, peopleDN: server.peopleDN, groupsDN: server.groupsDN },
    credentials: { bindDN: server.adminDN, password: server.adminPassword },
    group: 'engineering',
    addUnmanaged: (userName, email) => add(userName, { mail: email }),
    addLegacy: (userName) => add(userName, { businessCategory: 'rollcall-managed' }),
    markerOf: async (userName) => {
      const { searchEntries } = await admin.search(dn(userName), { scope: 'base', attributes: ['businessCategory'] }).catch(() => ({ searchEntries: [] }));
      const entry = searchEntries[0];
      return entry && [entry['businessCategory'] ?? []].flat().map(String).sort();
    },
    close: async () => {
      await admin.unbind().catch(() => undefined);
      await server.close();
    },
  };
}

async function postgresBackend(): Promise<Backend> {
  const server = await startPostgres();
  const admin = (text: string, values?: unknown[]) => adminQuery(server, text, values);
  await admin('CREATE ROLE analysts NOLOGIN; CREATE ROLE rollcall_managed NOLOGIN');
  return {
    type: 'postgres',
    settings: { host: server.host, port: server.port, ssl: 'disable' },
    credentials: { username: server.adminUser, password: server.adminPassword },
    group: 'analysts',
    addUnmanaged: async (userName) => {
      await admin(`CREATE ROLE ${pg.escapeIdentifier(userName)} LOGIN IN ROLE analysts`);
    },
    addLegacy: async (userName) => {
      await admin(`CREATE ROLE ${pg.escapeIdentifier(userName)} LOGIN IN ROLE rollcall_managed, analysts`);
    },
    // The marker roles the role is a member of, with their tags.
    markerOf: async (userName) => {
      const { rows } = await admin(
        `SELECT g.rolname || '=' || coalesce(shobj_description(g.oid, 'pg_authid'), '') AS marker
           FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles g ON g.oid = m.roleid
          WHERE r.rolname = $1 AND g.rolname <> 'analysts' ORDER BY 1`,
        [userName],
      );
      const exists = (await admin('SELECT 1 FROM pg_roles WHERE rolname = $1', [userName])).rowCount;
      return exists ? rows.map((row) => String(row.marker)) : undefined;
    },
    close: () => server.close(),
  };
}

async function scimBackend(): Promise<Backend> {
  const server = await startScim();
  const call = rawClient(server);
  const raw = async (method: string, path: string, body?: unknown) => (await call(method, path, body)) as Record<string, unknown> | undefined;
  const group = (await raw('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'engineering' }))!;
  const find = async (userName: string) => {
    const list = await raw('GET', `/Users?filter=${encodeURIComponent(`userName eq ${JSON.stringify(userName)}`)}`);
    return (list?.['Resources'] as { id: string; userName: string; externalId?: string }[] | undefined)?.find((u) => u.userName === userName);
  };
  const add = async (userName: string, extra: Record<string, unknown>) => {
    const created = (await raw('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, active: true, ...extra }))!;
    await raw('PATCH', `/Groups/${encodeURIComponent(String(group['id']))}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: 'members', value: [{ value: created['id'] }] }],
    });
  };
  return {
    type: 'scim',
    settings: { baseUrl: server.baseUrl, auth: 'bearer' },
    credentials: { token: server.token },
    group: 'engineering',
    addUnmanaged: (userName, email) => add(userName, { emails: [{ value: email, primary: true, type: 'work' }] }),
    addLegacy: (userName) => add(userName, { externalId: `rollcall:${userName}` }),
    markerOf: async (userName) => {
      const found = await find(userName);
      return found && [found.externalId ?? ''];
    },
    close: () => server.close(),
  };
}

async function sqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-ownership-'));
  const path = join(dir, 'directory.db');
  const withDb = <T>(use: (db: DatabaseSync) => T): T => {
    const db = new DatabaseSync(path, { timeout: 5_000 });
    try {
      return use(db);
    } finally {
      db.close();
    }
  };
  const add = (userName: string, managed: number, attributes: Record<string, string>) =>
    withDb((db) => {
      db.prepare("INSERT INTO accounts (user_name, managed, attributes, created_at, updated_at) VALUES (?, ?, ?, '2026-01-01', '2026-01-01')").run(
        userName,
        managed,
        JSON.stringify(attributes),
      );
      db.prepare('INSERT OR IGNORE INTO groups (name) VALUES (?)').run('staff');
      db.prepare('INSERT INTO memberships (user_name, group_name) VALUES (?, ?)').run(userName, 'staff');
    });
  return {
    type: 'sqlite',
    settings: { path },
    credentials: {},
    group: 'staff',
    addUnmanaged: async (userName, email) => add(userName, 0, { email }),
    addLegacy: async (userName) => add(userName, 1, {}),
    markerOf: async (userName) =>
      withDb((db) => {
        const row = db.prepare('SELECT managed, owner FROM accounts WHERE user_name = ?').get(userName);
        return row && [`${String(row.managed)}:${String(row.owner)}`];
      }),
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** What each backend's marker looks like for system `system`, as markerOf reports it. */
function ownMarker(type: SystemType, system: string, userName: string): string[] {
  switch (type) {
    case 'ldap':
      return [`rollcall:${system}`];
    case 'postgres':
      return [`rollcall:${system}=rollcall.dev/marker-of=${system}`];
    case 'scim':
      return [`rollcall:${system}:${userName}`];
    default:
      return [`1:${system}`];
  }
}

const backends: [string, () => Promise<Backend>][] = [
  ['ldap (slapd)', slapdBackend],
  ['postgres', postgresBackend],
  ['scim (scim2-server)', scimBackend],
  ['sqlite', sqliteBackend],
];

describe.each(backends)('ownership on one shared %s', (_name, startBackend) => {
  let backend: Backend;
  const connectors: Connector[] = [];
  const connect = async (system: string, adoption: AdoptionPolicy = 'never') => {
    // The local test servers speak plaintext.
    const spec = connectedSystemSpec.parse({
      type: backend.type,
      insecure: backend.type !== 'sqlite',
      allowPrivateNetwork: true,
      [backend.type]: backend.settings,
      adoption,
      credentialsSecretRef: { name: 'creds' },
    });
    const connector = await (
      await connectorFactory(backend.type)
    )({ system, namespace: system.split('/')[0]!, spec, credentials: backend.credentials, logger });
    connectors.push(connector);
    return connector;
  };
  const list = async (connector: Connector) => {
    const out: ObservedAccount[] = [];
    for await (const account of connector.listAccounts(signal())) out.push(account);
    return out.map((a) => a.userName).sort();
  };
  const desired = (system: string, userName: string, entitlements: string[], email?: string): DesiredAccount => ({
    system,
    userName,
    state: 'present',
    attributes: email ? { email } : {},
    entitlements,
  });
  /** Plans as the User reconcile does (getAccount, then accountPlan) and applies the plan. */
  const converge = async (
    connector: Connector,
    system: string,
    userName: string,
    entitlements: string[],
    adoption: AdoptionPolicy = 'never',
    email?: string,
  ) => {
    const want = desired(system, userName, entitlements, email);
    const plan = accountPlan(user(userName), want, await connector.getAccount(userName, signal()), connector.capabilities, { adoption });
    for (const change of plan.changes) await connector.apply(change, signal());
    return plan;
  };

  beforeAll(async () => {
    backend = await startBackend();
  }, 180_000);
  afterAll(async () => {
    for (const connector of connectors) await connector.close();
    await backend?.close();
  });

  it("two systems in two namespaces see only their own accounts, and the same userName stays the first one's", async () => {
    const a = await connect(A);
    const b = await connect(B);
    await converge(a, A, 'alice', [backend.group]);
    await converge(a, A, 'bob', []);
    await converge(b, B, 'carol', [backend.group]);
    // Team B's alice: the account is team A's, so B plans nothing and reports a conflict.
    const planB = await converge(b, B, 'alice', []);
    expect(planB.conflict).toContain('another ConnectedSystem');
    expect(planB.changes).toEqual([]);
    await expect(b.apply({ op: 'adopt', userName: 'alice' }, signal())).rejects.toBeInstanceOf(PermanentError);
    // A delete from team B finds nothing of its own (or is refused): either way alice stays team A's.
    await b.apply({ op: 'delete', userName: 'alice' }, signal()).catch((error: unknown) => expect(error).toBeInstanceOf(PermanentError));

    expect(await list(a)).toEqual(['alice', 'bob']);
    expect(await list(b)).toEqual(['carol']);
    expect(await backend.markerOf('alice')).toEqual(ownMarker(backend.type, A, 'alice'));
    expect((await a.getAccount('alice', signal()))?.entitlements).toEqual([backend.group]);
    expect((await b.getAccount('alice', signal()))?.owner).toBe('foreign');
  });

  it("orphans: delete in one system deletes its own orphans and leaves the other system's accounts alone", async () => {
    const a = await connect(A);
    const b = await connect(B);
    const listing: ObservedAccount[] = [];
    for await (const account of a.listAccounts(signal())) listing.push(account);
    // Team A declares nobody: every account it manages is an orphan; team B's are not in its listing at all.
    const { changes } = planOrphans(listing, new Set(), 'delete', a.capabilities);
    for (const change of changes) await a.apply(change, signal());
    expect(await list(a)).toEqual([]);
    expect(await backend.markerOf('alice')).toBeUndefined();
    expect(await list(b)).toEqual(['carol']);
    expect(await backend.markerOf('carol')).toEqual(ownMarker(backend.type, B, 'carol'));
  });

  it('adoption never leaves an unmanaged account alone as a conflict; matchUserName takes it over and converges it', async () => {
    await backend.addUnmanaged('dora', 'dora@example.org');
    const before = await backend.markerOf('dora');
    const never = await connect(A, 'never');
    const refused = await converge(never, A, 'dora', []);
    expect(refused.conflict).toContain('spec.adoption');
    expect(await backend.markerOf('dora')).toEqual(before);
    expect(await list(never)).toEqual([]);

    const adopting = await connect(A, 'matchUserName');
    const plan = await converge(adopting, A, 'dora', [], 'matchUserName');
    expect(plan.adopts).toBe('matchUserName');
    expect(plan.changes[0]).toEqual({ op: 'adopt', userName: 'dora' });
    expect(await list(adopting)).toEqual(['dora']);
    // Converged after the adoption: the group it held out of band is revoked.
    expect((await adopting.getAccount('dora', signal()))?.entitlements).toEqual([]);
    expect(await (await connect(B)).getAccount('dora', signal())).toMatchObject({ owner: 'foreign' });
  });

  it('matchEmail adopts only an account whose email matches', async () => {
    if (backend.type === 'postgres') return; // a PostgreSQL role stores no email: matchEmail never matches there
    await backend.addUnmanaged('erin', 'erin@example.org');
    const a = await connect(A, 'matchEmail');
    expect((await converge(a, A, 'erin', [], 'matchEmail', 'someone-else@example.org')).conflict).toContain('email does not match');
    expect(await list(a)).toEqual(['dora']);
    expect((await converge(a, A, 'erin', [], 'matchEmail', 'erin@example.org')).adopts).toBe('matchEmail');
    expect(await list(a)).toEqual(['dora', 'erin']);
  });

  it('legacy-marked accounts: claimed by the first system that declares them (the marker rewritten), invisible to the others', async () => {
    await backend.addLegacy('frank');
    await backend.addLegacy('gina');
    const a = await connect(A);
    const b = await connect(B);
    // Before anyone declares them, no system lists them, so no orphan policy can touch them.
    expect(await list(a)).not.toContain('frank');
    expect(await list(b)).not.toContain('gina');

    const plan = await converge(a, A, 'frank', [backend.group]);
    expect(plan.adopts).toBe('legacyMarker');
    expect(await backend.markerOf('frank')).toEqual(ownMarker(backend.type, A, 'frank'));
    expect(await list(a)).toContain('frank');
    expect((await b.getAccount('frank', signal()))?.owner).toBe('foreign');

    // A legacy-marked leaver is claimed and cut off, not left with access.
    const leaver = { system: B, userName: 'gina', state: 'disabled' as const, attributes: {}, entitlements: [] };
    const cut = accountPlan(user('gina'), leaver, await b.getAccount('gina', signal()), b.capabilities);
    expect(cut.changes.map((c) => c.op)[0]).toBe('adopt');
    for (const change of cut.changes) await b.apply(change, signal());
    const gina = await b.getAccount('gina', signal());
    expect(gina).toMatchObject({ userName: 'gina', entitlements: [] });
    if (b.capabilities.disable) expect(gina?.state).toBe('disabled');
    expect(await backend.markerOf('gina')).toEqual(ownMarker(backend.type, B, 'gina'));
  });
});
