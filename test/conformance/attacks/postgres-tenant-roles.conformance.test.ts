// Attacks of issue 17 on one PostgreSQL 15 that two tenants share, run as team-a (who may write
// Rollcall objects in its own namespace) through the controllers, with `rollcall plan` alongside.
// team-b's system team-b/db manages bob and carol; its marker role is `team-b-people`.
//  1. Another tenant's role as an entitlement: team-b's terminated leaver bob (NOLOGIN after the
//     default deprovision: disable) owns a table with a row. team-a declares the entitlement `bob`
//     for its User mallory: refused (Refused naming bob, the AccessRole and the AccessBinding),
//     never granted, and mallory cannot read the table. So are a LOGIN role of no system, team-b's
//     marker role and a group that is a member of bob; a plain NOLOGIN group is still granted.
//  9. Adoption escalates: with `adoption: matchUserName`, team-a declares Users named like a NOLOGIN
//     group with CREATEROLE, a role with BYPASSRLS, team-b's marker role, team-b's managed user carol
//     and a member of pg_read_all_data (directly, or through groups: the nearest elevated role reached
//     is named): each is a Conflict saying why, and none of them changes
//     (attributes, comment, memberships), so carol keeps her marker and her grant. A plain LOGIN role
//     is still adopted.
// Asserted on the server's own catalogs and by logging in as mallory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedSystemSpec, PermanentError, type User } from '../../../src/api/index.ts';
import { planAll } from '../../../src/cli/plan.ts';
import { systemClock } from '../../../src/clock/clock.ts';
import { scramVerifier } from '../../../src/connectors/postgres/scram.ts';
import { connectorFactory } from '../../../src/connectors/registry.ts';
import type { Connector } from '../../../src/connectors/types.ts';
import { Connections } from '../../../src/connections/connections.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { startPostgres, type PostgresServer, adminQuery } from '../../servers/postgres.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { accessBinding, accessRole, credentialsSecret, postgresSystem, user as userManifest, writeManifests, type SpecOf } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
const signal = () => AbortSignal.timeout(20_000);
const B_MARKER = 'team-b-people';
const A_MARKER = 'rollcall:team-a/db';
/** Users team-a names after roles it must not adopt, and the reason each Conflict must give. */
const NOT_ADOPTED: [string, string][] = [
  ['creator', 'role "creator" has CREATEROLE'],
  ['bypasser', 'role "bypasser" has BYPASSRLS'],
  [B_MARKER, `role "${B_MARKER}" is a Rollcall marker role`],
  ['carol', 'belongs to another ConnectedSystem'],
  ['reader-all', 'role "reader-all" is a member of "pg_read_all_data"'],
  // Through groups in between: the nearest elevated role it reaches is named.
  ['deep-reader', 'role "deep-reader" is a member of "pg_read_all_data"'],
  ['deep-creator', 'role "deep-creator" is a member of "creator"'],
];

describe("two tenants on one PostgreSQL: team-a reaches none of team-b's roles", () => {
  let server: PostgresServer;
  let dir: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const admin = (text: string, values?: unknown[]) => adminQuery(server, text, values);
  const hasRole = async (member: string, role: string) => (await admin("SELECT pg_has_role($1, $2, 'member') AS held", [member, role])).rows[0].held as boolean;
  const memberships = async (role: string) =>
    (
      await admin('SELECT pg_get_userbyid(m.roleid)::text AS name FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1 ORDER BY 1', [
        role,
      ])
    ).rows.map((r) => r.name as string);
  // Every attribute of the role's row, its memberships and its comment: any write shows.
  const fingerprint = async (role: string) =>
    (
      await admin(
        `SELECT a.xmin::text || '|' || a.rolcanlogin || a.rolcreaterole || a.rolbypassrls || '|' ||
                coalesce((SELECT string_agg(m.roleid::text || ':' || m.xmin::text, ',' ORDER BY m.roleid) FROM pg_auth_members m WHERE m.member = a.oid), '') || '|' ||
                coalesce(shobj_description(a.oid, 'pg_authid'), '<none>') AS fingerprint
           FROM pg_authid a WHERE a.rolname = $1`,
        [role],
      )
    ).rows[0]?.fingerprint as string | undefined;
  const user = (namespace: string, name: string) => store.get('User', { namespace, name }) as User | undefined;
  const condition = (namespace: string, name: string, type: string) => user(namespace, name)?.status?.conditions?.find((c) => c.type === type);

  const secret = (namespace: string) =>
    credentialsSecret({ name: 'db-credentials', namespace }, { username: server.adminUser, password: server.adminPassword });
  const system = (namespace: string, spec: Parameters<typeof postgresSystem>[2]) => postgresSystem({ name: 'db', namespace }, server, spec);
  const person = (namespace: string, userName: string, state: SpecOf<'User'>['state'] = 'active') =>
    userManifest({ name: userName, namespace }, { givenName: userName, familyName: 'Test', state });
  const teamB = (bobState: SpecOf<'User'>['state']) => [
    secret('team-b'),
    system('team-b', { postgres: { managedRole: B_MARKER } }),
    accessRole({ name: 'analyst', namespace: 'team-b' }, { db: ['analysts'] }),
    accessBinding({ name: 'analyst', namespace: 'team-b' }, { users: ['bob', 'carol'] }),
    person('team-b', 'bob', bobState),
    person('team-b', 'carol'),
  ];
  const teamA = () => [
    secret('team-a'),
    system('team-a', { adoption: 'matchUserName' }),
    accessRole({ name: 'loot', namespace: 'team-a' }, { db: ['bob', 'stray_login', B_MARKER, 'bob_proxy', 'readers'] }),
    accessBinding({ name: 'loot', namespace: 'team-a' }, { users: ['mallory'] }),
    // An account and nothing more, for the Users named after existing roles.
    accessRole({ name: 'login', namespace: 'team-a' }, { db: [] }),
    accessBinding({ name: 'login', namespace: 'team-a' }, { users: [...NOT_ADOPTED.map(([userName]) => userName), 'plain'] }),
    person('team-a', 'mallory'),
    ...NOT_ADOPTED.map(([userName]) => person('team-a', userName)),
    person('team-a', 'plain'),
  ];
  const fingerprints = new Map<string, string | undefined>();

  beforeAll(async () => {
    server = await startPostgres();
    await admin('CREATE ROLE analysts NOLOGIN; CREATE ROLE readers NOLOGIN; CREATE ROLE stray_login LOGIN');
    // team-b's system creates bob and carol; bob (still a person then) creates a table with a row.
    dir = mkdtempSync(join(tmpdir(), 'rollcall-pg-tenants-'));
    writeManifests(dir, 'team-b.yaml', teamB('active'));
    ({ store, directory } = storeFromManifests(dir, { logger }));
    manager = new Manager({ store, logger });
    await manager.start();
    await manager.idle();
    await admin(
      "GRANT CREATE ON SCHEMA public TO bob; SET ROLE bob; CREATE TABLE bob_ledger (secret text); INSERT INTO bob_ledger VALUES ('team-b only'); RESET ROLE",
    );
    // A group someone made a member of bob: through it, bob's privileges too.
    await admin('CREATE ROLE bob_proxy NOLOGIN; GRANT bob TO bob_proxy');
    // bob leaves: the default deprovision disables him (NOLOGIN), his table stays his.
    writeManifests(dir, 'team-b.yaml', teamB('terminated'));
    directory.reload();
    await manager.idle();
    expect((await admin("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'bob'")).rows).toEqual([{ rolcanlogin: false }]);
    expect(await memberships('carol')).toEqual(['analysts', B_MARKER]);

    // Roles team-a names its Users after, made out of band (creator is a group: it has a member).
    await admin(
      'CREATE ROLE creator NOLOGIN CREATEROLE; CREATE ROLE creator_member NOLOGIN IN ROLE creator; CREATE ROLE bypasser LOGIN BYPASSRLS; ' +
        'CREATE ROLE "reader-all" LOGIN IN ROLE pg_read_all_data; CREATE ROLE plain LOGIN; ' +
        'CREATE ROLE readers_outer NOLOGIN IN ROLE pg_read_all_data; CREATE ROLE readers_inner NOLOGIN IN ROLE readers_outer; ' +
        'CREATE ROLE "deep-reader" LOGIN IN ROLE readers_inner; CREATE ROLE creators_inner NOLOGIN IN ROLE creator; ' +
        'CREATE ROLE "deep-creator" LOGIN IN ROLE creators_inner',
    );
    for (const [userName] of NOT_ADOPTED) fingerprints.set(userName, await fingerprint(userName));

    writeManifests(dir, 'team-a.yaml', teamA());
    directory.reload();
    await manager.idle();
  }, 240_000);
  afterAll(async () => {
    await manager?.stop();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  describe('1: an entitlement is a group role no system manages', () => {
    it("refuses team-b's disabled leaver bob, naming him, the AccessRole and the AccessBinding; mallory is no member and cannot read his table", async () => {
      const refused = condition('team-a', 'mallory', 'Refused');
      expect(refused).toMatchObject({ status: 'True', reason: 'EntitlementRefused' });
      expect(refused?.message).toContain(
        'db: refused bob (AccessRole loot, AccessBinding loot): role "bob" is an account a Rollcall ConnectedSystem manages (a member of a marker role), whether enabled or disabled: ' +
          'an entitlement must be a group role (NOLOGIN) that no ConnectedSystem manages; never granted by Rollcall',
      );
      expect(await hasRole('mallory', 'bob')).toBe(false);

      // Logged in as mallory: bob's table stays out of reach, and so does bob.
      const password = `pw-${crypto.randomUUID()}`;
      await admin(`ALTER ROLE mallory PASSWORD ${pg.escapeLiteral(scramVerifier(password))}`);
      const mallory = new pg.Client({ host: server.host, port: server.port, user: 'mallory', password, database: 'postgres' });
      await mallory.connect();
      try {
        await expect(mallory.query('SELECT secret FROM bob_ledger')).rejects.toMatchObject({ code: '42501' });
        await expect(mallory.query('SET ROLE bob')).rejects.toMatchObject({ code: '42501' });
      } finally {
        await mallory.end();
      }
    });

    it("refuses a LOGIN role of no system, team-b's marker role and a group that is a member of bob; still grants a plain group role", async () => {
      const message = condition('team-a', 'mallory', 'Refused')?.message ?? '';
      expect(message).toContain(
        'refused stray_login (AccessRole loot, AccessBinding loot): role "stray_login" can log in, so it is an account, not a group role',
      );
      expect(message).toContain(`refused ${B_MARKER} (AccessRole loot, AccessBinding loot): role "${B_MARKER}" is a Rollcall marker role`);
      expect(message).toContain(
        'refused bob_proxy (AccessRole loot, AccessBinding loot): role "bob_proxy" is a member of "bob", which is an account a Rollcall ConnectedSystem manages',
      );
      for (const role of ['stray_login', B_MARKER, 'bob_proxy']) expect(await hasRole('mallory', role), role).toBe(false);
      expect(message).not.toContain('readers');
      expect(await memberships('mallory')).toEqual(['readers', A_MARKER]);
      expect(user('team-a', 'mallory')?.status?.accounts?.find((a) => a.system === 'db')).toMatchObject({ state: 'present', entitlements: ['readers'] });
    });

    it('the GRANT refuses them too, whoever asks the connector', async () => {
      const connector = await connect('team-a/db');
      try {
        for (const entitlement of ['bob', 'stray_login', B_MARKER, 'bob_proxy']) {
          const error = await connector.apply({ op: 'grant', userName: 'mallory', entitlement }, signal()).then(
            () => undefined,
            (e: unknown) => e as Error,
          );
          expect(error, entitlement).toBeInstanceOf(PermanentError);
          expect(error?.message).toContain(`role "${entitlement}"`);
        }
        expect(await hasRole('mallory', 'bob')).toBe(false);
      } finally {
        await connector.close();
      }
    });

    it('rollcall plan refuses the same entitlements and plans no grant of them', async () => {
      const plan = await planTeamA();
      const mallory = plan.accounts.find((account) => account.desired.userName === 'mallory');
      expect(mallory?.refused.map((r) => r.entitlement).sort()).toEqual(['bob', 'bob_proxy', B_MARKER, 'stray_login'].sort());
      expect(mallory?.changes).toEqual([]);
    });
  });

  describe('9: adoption takes only a plain login', () => {
    it.each(NOT_ADOPTED)('%s: a Conflict saying why, and the role unchanged', async (userName, reason) => {
      const conflict = condition('team-a', userName, 'Conflict');
      expect(conflict).toMatchObject({ status: 'True', reason: 'AccountNotManaged' });
      expect(conflict?.message).toContain(`db: spec.userName ${userName}: `);
      expect(conflict?.message).toContain(reason);
      expect(await fingerprint(userName)).toBe(fingerprints.get(userName));
      expect(await hasRole(userName, A_MARKER)).toBe(false);
    });

    it("team-b keeps its marker's tag, and carol her membership in it and her grant", async () => {
      const { rows } = await admin("SELECT shobj_description(oid, 'pg_authid') AS comment, rolcanlogin FROM pg_roles WHERE rolname = $1", [B_MARKER]);
      expect(rows).toEqual([{ comment: 'rollcall.dev/marker-of=team-b/db', rolcanlogin: false }]);
      expect(await memberships('carol')).toEqual(['analysts', B_MARKER]);
      expect(user('team-b', 'carol')?.status?.accounts?.find((a) => a.system === 'db')).toMatchObject({ state: 'present', entitlements: ['analysts'] });
    });

    it('a plain LOGIN role is still adopted', async () => {
      expect(await memberships('plain')).toEqual([A_MARKER]);
      expect(user('team-a', 'plain')?.status?.accounts?.find((a) => a.system === 'db')).toMatchObject({ state: 'present', adopted: 'matchUserName' });
    });

    it('the connector refuses to adopt them, whoever asks', async () => {
      const connector = await connect('team-a/db', 'matchUserName');
      try {
        for (const [userName] of NOT_ADOPTED) {
          const error = await connector.apply({ op: 'adopt', userName }, signal()).then(
            () => undefined,
            (e: unknown) => e as Error,
          );
          expect(error, userName).toBeInstanceOf(PermanentError);
          expect(await fingerprint(userName)).toBe(fingerprints.get(userName));
        }
      } finally {
        await connector.close();
      }
    });

    it('rollcall plan shows the same conflicts and no adoption', async () => {
      const plan = await planTeamA();
      for (const [userName, reason] of NOT_ADOPTED) {
        const account = plan.accounts.find((a) => a.desired.userName === userName);
        expect(account?.conflict, userName).toContain(reason);
        expect(account?.changes).toEqual([]);
      }
    });
  });

  async function connect(system: string, adoption: 'never' | 'matchUserName' = 'never'): Promise<Connector> {
    const spec = connectedSystemSpec.parse({
      type: 'postgres',
      insecure: true,
      allowPrivateNetwork: true,
      adoption,
      postgres: { host: server.host, port: server.port, ssl: 'disable' },
      credentialsSecretRef: { name: 'db-credentials' },
    });
    const create = await connectorFactory('postgres');
    return create({ system, namespace: system.split('/')[0]!, spec, credentials: { username: server.adminUser, password: server.adminPassword }, logger });
  }

  async function planTeamA() {
    const connections = new Connections({ store, logger });
    try {
      const [result] = await planAll(store, connections, systemClock, (s) => s.metadata.namespace === 'team-a');
      if (!result || !('pass' in result)) throw new Error(`no plan for team-a/db: ${JSON.stringify(result)}`);
      return result.pass;
    } finally {
      await connections.closeAll();
    }
  }
});
