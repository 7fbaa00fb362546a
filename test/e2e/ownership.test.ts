// Ownership and leavers on the real control plane: two namespaces, each with its own ConnectedSystems
// on one shared slapd and one shared PostgreSQL, each run by its own `rollcall run --namespace`.
// Asserted on the servers themselves (read as their administrators) and on what kubectl shows.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminQuery, startPostgres, type PostgresServer } from '../servers/postgres.ts';
import { start as startSlapd, type SlapdServer } from '../servers/slapd.ts';
import { createNamespace, eventsOn, kubectl, kubectlOk } from './kube.ts';
import { eventually as eventuallyLogging, lastLines } from '../helpers/eventually.ts';
import { accessBinding, accessRole, credentialsSecret, ldapSystem, manifestsYaml, postgresSystem, user, type SpecOf } from '../helpers/manifests.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('two namespaces on one slapd and one PostgreSQL: ownership, adoption, migration, deletionPolicy', () => {
  let slapd: SlapdServer;
  let postgres: PostgresServer;
  let teamA: string;
  let teamB: string;
  const processes: ChildProcess[] = [];
  const logs: string[] = [];

  function eventually<T>(check: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
    return eventuallyLogging(check, { timeoutMs, logs: () => lastLines(logs) });
  }

  async function withLdap<T>(use: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ url: slapd.url });
    await client.bind(slapd.adminDN, slapd.adminPassword);
    try {
      return await use(client);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  /** uid → businessCategory values (the markers), for every entry under peopleDN. */
  async function ldapMarkers(): Promise<Record<string, string[]>> {
    return withLdap(async (client) => {
      const { searchEntries } = await client.search(slapd.peopleDN, { scope: 'one', filter: '(uid=*)', attributes: ['uid', 'businessCategory'] });
      return Object.fromEntries(searchEntries.map((e) => [String(e['uid']), [e['businessCategory'] ?? []].flat().map(String).sort()]));
    });
  }

  const sql = (text: string, values?: unknown[]) => adminQuery(postgres, text, values);

  /** Login roles → the marker roles they are members of. */
  async function pgMarkers(): Promise<Record<string, string[]>> {
    const { rows } = await sql(`
      SELECT r.rolname::text AS name, coalesce(array_agg(g.rolname::text ORDER BY g.rolname) FILTER (WHERE g.rolname LIKE 'rollcall%'), '{}') AS markers
        FROM pg_roles r LEFT JOIN pg_auth_members m ON m.member = r.oid LEFT JOIN pg_roles g ON g.oid = m.roleid
       WHERE r.rolcanlogin OR r.rolname IN ('alice', 'bob', 'carol', 'dave')
       GROUP BY r.rolname`);
    return Object.fromEntries(rows.map((row: { name: string; markers: string[] }) => [row.name, row.markers]));
  }

  const marker = (namespace: string, system: string) => `rollcall:${namespace}/${system}`;

  function status(
    kind: string,
    namespace: string,
    name: string,
  ): {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    accounts?: { system: string; state: string; adopted?: string; message?: string }[];
  } {
    return JSON.parse(kubectlOk(['get', kind, name, '-n', namespace, '-o', 'json'])).status ?? {};
  }
  const condition = (kind: string, namespace: string, name: string, type: string) => status(kind, namespace, name).conditions?.find((c) => c.type === type);
  const exists = (kind: string, namespace: string, name: string) => kubectl(['get', kind, name, '-n', namespace]).code === 0;

  const events = (namespace: string, name: string, reason: string) => eventsOn(namespace, name, reason).map((e) => e.message);

  const person = (namespace: string, name: string) =>
    user({ name, namespace, labels: { staff: 'yes' } }, { givenName: name, familyName: 'Test', email: `${name}@example.org` });

  interface Policies {
    orphans: SpecOf<'ConnectedSystem'>['orphans'];
    adoption: SpecOf<'ConnectedSystem'>['adoption'];
    dbDeletionPolicy: SpecOf<'ConnectedSystem'>['deletionPolicy'];
    dirGuard?: SpecOf<'ConnectedSystem'>['deletionGuard'];
  }
  function namespaceManifests(namespace: string, { orphans, adoption, dbDeletionPolicy, dirGuard }: Policies): string {
    return manifestsYaml([
      credentialsSecret({ name: 'dir-credentials', namespace }, { bindDN: slapd.adminDN, password: slapd.adminPassword }),
      credentialsSecret({ name: 'db-credentials', namespace }, { username: postgres.adminUser, password: postgres.adminPassword }),
      ldapSystem({ name: 'dir', namespace }, slapd, { orphans, adoption, resyncInterval: '3s', deletionGuard: dirGuard }),
      postgresSystem({ name: 'db', namespace }, postgres, {
        deprovision: { policy: 'delete' },
        orphans,
        adoption,
        deletionPolicy: dbDeletionPolicy,
        resyncInterval: '3s',
      }),
      accessRole({ name: 'staff', namespace }, { dir: ['engineering'], db: ['analysts'] }),
      accessBinding({ name: 'staff', namespace }, { userSelector: { matchLabels: { staff: 'yes' } } }),
    ]);
  }

  function startRollcall(namespace: string): void {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'rollcall.js'), 'run', '--kubeconfig', inject('kubeconfig'), '--namespace', namespace, '--no-leader-elect', '--log-level', 'warn'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    processes.push(child);
  }

  beforeAll(async () => {
    [slapd, postgres] = await Promise.all([startSlapd(), startPostgres()]);
    await sql('CREATE ROLE analysts NOLOGIN; CREATE ROLE rollcall_managed NOLOGIN');
    // Before ownership was per system: an entry and a role carrying the marker every system shared.
    await withLdap((client) =>
      client.add(`uid=legacy,${slapd.peopleDN}`, {
        objectClass: ['inetOrgPerson'],
        uid: 'legacy',
        cn: 'legacy',
        sn: 'legacy',
        businessCategory: 'rollcall-managed',
      }),
    );
    await sql('CREATE ROLE legacy LOGIN IN ROLE rollcall_managed');
    // Someone's own entry and role named carol: no marker at all.
    await withLdap((client) =>
      client.add(`uid=carol,${slapd.peopleDN}`, { objectClass: ['inetOrgPerson'], uid: 'carol', cn: 'carol', sn: 'carol', mail: 'carol@example.org' }),
    );
    await sql('CREATE ROLE carol LOGIN');

    teamA = createNamespace('own-a');
    teamB = createNamespace('own-b');
    // Team A deletes orphans and adopts nothing; its db deprovisions everything when deleted.
    // Its dir guard holds every deprovision, so a leaver there waits for approval.
    kubectlOk(
      ['apply', '-f', '-'],
      namespaceManifests(teamA, { orphans: 'delete', adoption: 'never', dbDeletionPolicy: 'deprovision', dirGuard: { maxCount: 0 } }),
    );
    // Team B only reports orphans and takes over same-named accounts; its systems are retained when deleted.
    kubectlOk(['apply', '-f', '-'], namespaceManifests(teamB, { orphans: 'report', adoption: 'matchUserName', dbDeletionPolicy: 'retain' }));
    // Team A starts first, so its alice is the older account on both backends.
    kubectlOk(['apply', '-f', '-'], manifestsYaml(['alice', 'legacy', 'carol', 'dave'].map((name) => person(teamA, name))));
    startRollcall(teamA);
    await eventually(() => expect(condition('user', teamA, 'alice', 'Ready')?.status).toBe('True'), 60_000);
    kubectlOk(['apply', '-f', '-'], manifestsYaml(['alice', 'bob', 'carol'].map((name) => person(teamB, name))));
    startRollcall(teamB);
    await eventually(() => expect(condition('user', teamB, 'bob', 'Ready')?.status).toBe('True'), 60_000);
  }, 180_000);

  afterAll(async () => {
    for (const child of processes) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await Promise.all([slapd?.close(), postgres?.close()]);
  });

  it("each system holds only its own accounts: two alices never share one, and orphans: delete in one namespace leaves the other's alone", async () => {
    await eventually(async () => {
      const ldap = await ldapMarkers();
      expect(ldap['alice']).toEqual([marker(teamA, 'dir')]);
      expect(ldap['dave']).toEqual([marker(teamA, 'dir')]);
      expect(ldap['bob']).toEqual([marker(teamB, 'dir')]);
      const roles = await pgMarkers();
      expect(roles['alice']).toEqual([marker(teamA, 'db')]);
      expect(roles['bob']).toEqual([marker(teamB, 'db')]);
    });
    // Team B's alice is refused on both systems, with a Conflict naming them; team A's is untouched.
    await eventually(() => {
      const conflict = condition('user', teamB, 'alice', 'Conflict');
      expect(conflict?.status).toBe('True');
      expect(conflict?.message).toContain('dir: ');
      expect(conflict?.message).toContain('db: ');
      expect(conflict?.message).toContain('another ConnectedSystem');
    });
    expect(condition('user', teamA, 'alice', 'Ready')?.status).toBe('True');
    // Several of team A's resyncs (orphans: delete) later, team B's bob is still there, never an orphan of A.
    await sleep(7_000);
    expect((await ldapMarkers())['bob']).toEqual([marker(teamB, 'dir')]);
    expect((await pgMarkers())['bob']).toEqual([marker(teamB, 'db')]);
    expect(events(teamA, 'dir', 'OrphanFound').join('\n')).not.toContain('bob');
    expect(events(teamA, 'db', 'OrphanFound').join('\n')).not.toContain('bob');
  });

  it('legacy-marked accounts are claimed by the system whose User declares them, the marker rewritten', async () => {
    await eventually(async () => {
      expect((await ldapMarkers())['legacy']).toEqual([marker(teamA, 'dir')]);
      expect((await pgMarkers())['legacy']).toEqual([marker(teamA, 'db')]);
    });
    // The status follows the writes once the User's reconcile finishes.
    await eventually(() =>
      expect((status('user', teamA, 'legacy').accounts ?? []).map((a) => [a.system, a.adopted])).toEqual([
        ['db', 'legacyMarker'],
        ['dir', 'legacyMarker'],
      ]),
    );
    await eventually(() => expect(events(teamA, 'legacy', 'AccountAdopted').join('\n')).toMatch(/dir: adopt account/));
    expect(events(teamA, 'dir', 'AccountAdopted').join('\n')).toContain('legacy adopted for User legacy (legacyMarker)');
  });

  it('adoption: never leaves carol alone with a Conflict in team A; matchUserName takes her over in team B', async () => {
    await eventually(async () => {
      expect((await ldapMarkers())['carol']).toEqual([marker(teamB, 'dir')]);
      expect((await pgMarkers())['carol']).toEqual([marker(teamB, 'db')]);
    });
    await eventually(() => expect(status('user', teamB, 'carol').accounts?.map((a) => a.adopted)).toEqual(['matchUserName', 'matchUserName']));
    expect(events(teamB, 'carol', 'AccountAdopted').length).toBeGreaterThanOrEqual(2);
    await eventually(() => expect(condition('user', teamA, 'carol', 'Conflict')).toMatchObject({ status: 'True', message: expect.stringContaining('dir: ') }));
  });

  it('a deleted system waits for the leavers of its namespace; with deletionPolicy deprovision it then removes only its own accounts', async () => {
    // dave leaves team A; team A's dir guard holds his deprovision, so his User (and its finalizer) stays.
    kubectlOk(['delete', 'user', 'dave', '-n', teamA, '--wait=false']);
    kubectlOk(['delete', 'csys', 'db', '-n', teamA, '--wait=false']);
    await eventually(() =>
      expect(condition('csys', teamA, 'db', 'Ready')).toMatchObject({ status: 'False', reason: 'WaitingForLeavers', message: expect.stringContaining('dave') }),
    );
    expect(exists('csys', teamA, 'db')).toBe(true);
    // Team A's roles are still there while it waits.
    expect((await pgMarkers())['alice']).toEqual([marker(teamA, 'db')]);

    // A person approves the held deprovision: dave goes, then db deprovisions team A's roles and goes.
    kubectlOk(['annotate', 'csys', 'dir', '-n', teamA, 'rollcall.dev/approve-deprovision=1', '--overwrite']);
    await eventually(() => expect(exists('user', teamA, 'dave')).toBe(false), 45_000);
    await eventually(() => expect(exists('csys', teamA, 'db')).toBe(false), 45_000);
    const roles = await pgMarkers();
    for (const name of ['legacy', 'dave']) expect(roles[name], name).toBeUndefined();
    // Team B's alice, refused while team A held the name, may take it as soon as it is free: the role
    // is gone or team B's own, never team A's.
    expect([undefined, [marker(teamB, 'db')]], 'alice').toContainEqual(roles['alice']);
    // Team B's roles, on the same server, are untouched.
    expect(roles['bob']).toEqual([marker(teamB, 'db')]);
    expect(roles['carol']).toEqual([marker(teamB, 'db')]);
  });

  it("deletionPolicy retain (the default) leaves the system's accounts as they are", async () => {
    kubectlOk(['delete', 'csys', 'dir', '-n', teamB, '--wait=false']);
    await eventually(() => expect(exists('csys', teamB, 'dir')).toBe(false));
    const ldap = await ldapMarkers();
    expect(ldap['bob']).toEqual([marker(teamB, 'dir')]);
    expect(ldap['carol']).toEqual([marker(teamB, 'dir')]);
  });
});
