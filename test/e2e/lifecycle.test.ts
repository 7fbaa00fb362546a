// A company's day on the real control plane: `rollcall run` as a child process keeps a real slapd,
// a real PostgreSQL and a real SCIM server in step with Users, AccessRoles and AccessBindings
// applied with kubectl. Every step asserts the systems themselves (read as their administrators,
// never through a connector) and what `kubectl get users` shows.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EMPTY_GROUP_PLACEHOLDER } from '../../src/connectors/ldap/index.ts';
import { escapeFilterValue } from '../../src/connectors/ldap/escape.ts';
import { adminQuery, startPostgres, type PostgresServer } from '../servers/postgres.ts';
import { start as startScim, type ScimServer } from '../servers/scim.ts';
import { start as startSlapd, type SlapdServer } from '../servers/slapd.ts';
import { createNamespace, eventsOn, kubectl, kubectlOk } from './kube.ts';
import { eventually as eventuallyLogging, lastLines } from '../helpers/eventually.ts';
import { accessBinding, accessRole, ldapSystem, manifestsYaml, postgresSystem, scimSystem, user, type Manifest, type SpecOf } from '../helpers/manifests.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const RESYNC_MS = 5_000;

type Department = 'engineering' | 'sales' | 'finance';
/** What each department's AccessRole grants per system, on top of the `employee` role it includes. */
const GRANTS: Record<Department, { ldap: string[]; pg: string[]; wiki: string[] }> = {
  engineering: { ldap: ['engineering', 'vpn-users'], pg: ['engineers'], wiki: ['engineering'] },
  sales: { ldap: ['sales'], pg: ['analysts'], wiki: ['sales'] },
  finance: { ldap: ['finance', 'vpn-users'], pg: ['analysts'], wiki: ['finance'] },
};
const EMPLOYEE = { ldap: ['staff'], wiki: ['all-hands'] };
const LDAP_GROUPS = ['sales', 'finance', 'staff']; // engineering and vpn-users come with the test server
const PG_GROUPS = ['analysts', 'engineers'];
const WIKI_GROUPS = ['engineering', 'sales', 'finance', 'all-hands'];

/** The test's model of the company: who works where, and how each person left (if they did). */
interface Person {
  department: Department;
  gone?: 'terminated' | 'expired' | 'deleted';
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a company's day: ldap, postgres and scim kept in step by rollcall run", () => {
  let namespace: string;
  let slapd: SlapdServer;
  let postgres: PostgresServer;
  let scim: ScimServer;
  let rollcall: ChildProcess;
  const logs: string[] = [];
  const people = new Map<string, Person>();

  /** Retries `check` until it stops throwing; on timeout rethrows its last error with rollcall's recent log. */
  function eventually<T>(check: () => Promise<T> | T, timeoutMs = 30_000, intervalMs = 300): Promise<T> {
    return eventuallyLogging(check, { timeoutMs, intervalMs, logs: () => lastLines(logs) });
  }

  // ---- the real systems, read as their administrators ----

  async function withLdap<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ url: slapd.url, timeout: 5000, connectTimeout: 2000 });
    await client.bind(slapd.adminDN, slapd.adminPassword);
    try {
      return await fn(client);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  /** Managed LDAP entries: uid → locked (ppolicy) and group memberships. */
  async function ldapAccounts(): Promise<Record<string, { locked: boolean; groups: string[] }>> {
    return withLdap(async (client) => {
      const { searchEntries: entries } = await client.search(slapd.peopleDN, {
        scope: 'one',
        filter: `(businessCategory=${escapeFilterValue(`rollcall:${namespace}/corp-ldap`)})`,
        attributes: ['uid', 'pwdAccountLockedTime'],
      });
      const { searchEntries: groups } = await client.search(slapd.groupsDN, {
        scope: 'one',
        filter: '(objectClass=groupOfNames)',
        attributes: ['cn', 'member'],
      });
      const out: Record<string, { locked: boolean; groups: string[] }> = {};
      for (const entry of entries) {
        const dn = entry.dn.toLowerCase();
        const memberOf = groups.filter((g) => [g['member'] ?? []].flat().some((m) => String(m).toLowerCase() === dn)).map((g) => String(g['cn']));
        out[String(entry['uid'])] = { locked: [entry['pwdAccountLockedTime'] ?? []].flat().length > 0, groups: sorted(memberOf) };
      }
      return out;
    });
  }

  async function ldapGroupMembers(group: string): Promise<string[]> {
    return withLdap(async (client) => {
      const { searchEntries } = await client.search(`cn=${group},${slapd.groupsDN}`, { scope: 'base', attributes: ['member'] });
      return [searchEntries[0]?.['member'] ?? []].flat().map(String);
    });
  }

  async function ldapEntryCSN(uid: string): Promise<string> {
    return withLdap(async (client) => {
      const { searchEntries } = await client.search(`uid=${uid},${slapd.peopleDN}`, { scope: 'base', attributes: ['entryCSN'] });
      return String(searchEntries[0]?.['entryCSN']);
    });
  }

  const sql = (text: string, values?: unknown[]) => adminQuery(postgres, text, values);

  /** The marker role of analytics-db: its ConnectedSystem's own. */
  const pgMarker = () => `rollcall:${namespace}/analytics-db`;

  /** Login roles in the managed scope (members of the system's marker role) → LOGIN and their group roles. */
  async function pgAccounts(): Promise<Record<string, { login: boolean; roles: string[] }>> {
    const { rows } = await sql(
      `
      SELECT r.rolname::text AS name, r.rolcanlogin AS login,
             coalesce(array_agg(g.rolname::text ORDER BY g.rolname) FILTER (WHERE g.rolname <> $1), '{}') AS roles
        FROM pg_roles r
        JOIN pg_auth_members marker ON marker.member = r.oid AND marker.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)
        LEFT JOIN pg_auth_members m ON m.member = r.oid
        LEFT JOIN pg_roles g ON g.oid = m.roleid
       GROUP BY r.rolname, r.rolcanlogin`,
      [pgMarker()],
    );
    return Object.fromEntries(rows.map((row: { name: string; login: boolean; roles: string[] }) => [row.name, { login: row.login, roles: row.roles }]));
  }

  /** Any write to the role or its memberships changes this. */
  async function pgFingerprint(role: string): Promise<string> {
    const { rows } = await sql(
      `SELECT a.xmin::text || '|' || coalesce((SELECT string_agg(m.roleid::text || ':' || m.xmin::text, ',' ORDER BY m.roleid) FROM pg_auth_members m WHERE m.member = a.oid), '') AS f
         FROM pg_authid a WHERE a.rolname = $1`,
      [role],
    );
    return rows[0]?.f as string;
  }

  async function scimGet(path: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${scim.baseUrl}${path}`, { headers: { authorization: `Bearer ${scim.token}` }, signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  }

  async function scimAll(resource: 'Users' | 'Groups'): Promise<Record<string, unknown>[]> {
    const all: Record<string, unknown>[] = [];
    for (let start = 1; ; start += 100) {
      const page = await scimGet(`/${resource}?startIndex=${start}&count=100`);
      const resources = (page['Resources'] as Record<string, unknown>[] | undefined) ?? [];
      all.push(...resources);
      if (resources.length === 0 || all.length >= Number(page['totalResults'])) return all;
    }
  }

  interface WikiAccount {
    active: boolean;
    groups: string[];
    version: string;
  }

  /** SCIM users that carry Rollcall's marker → active, group displayNames and meta version. */
  async function wikiAccounts(): Promise<Record<string, WikiAccount>> {
    const [users, groups] = [await scimAll('Users'), await scimAll('Groups')];
    const out: Record<string, WikiAccount> = {};
    for (const user of users) {
      if (!String(user['externalId'] ?? '').startsWith(`rollcall:${namespace}/wiki:`)) continue;
      const memberOf = groups
        .filter((g) => ((g['members'] as { value: string }[] | undefined) ?? []).some((m) => m.value === user['id']))
        .map((g) => String(g['displayName']));
      const meta = (user['meta'] ?? {}) as { version?: string; lastModified?: string };
      out[String(user['userName'])] = { active: user['active'] !== false, groups: sorted(memberOf), version: String(meta.version ?? meta.lastModified) };
    }
    return out;
  }

  const withoutVersion = (accounts: Record<string, WikiAccount>) =>
    Object.fromEntries(Object.entries(accounts).map(([name, { active, groups }]) => [name, { active, groups }]));

  // ---- what the model says each system should hold ----

  function expectedLdap(): Record<string, { locked: boolean; groups: string[] }> {
    return Object.fromEntries(
      [...people].map(([name, p]) => [
        name,
        p.gone ? { locked: true, groups: [] } : { locked: false, groups: sorted([...GRANTS[p.department].ldap, ...EMPLOYEE.ldap]) },
      ]),
    );
  }

  function expectedPg(): Record<string, { login: boolean; roles: string[] }> {
    return Object.fromEntries([...people].filter(([, p]) => !p.gone).map(([name, p]) => [name, { login: true, roles: sorted(GRANTS[p.department].pg) }]));
  }

  /** `held`: leavers whose wiki deprovision the deletion guard holds back, so they keep their access there. */
  function expectedWiki(held: Set<string> = new Set()): Record<string, { active: boolean; groups: string[] }> {
    return Object.fromEntries(
      [...people].map(([name, p]) => [
        name,
        p.gone && !held.has(name) ? { active: false, groups: [] } : { active: true, groups: sorted([...GRANTS[p.department].wiki, ...EMPLOYEE.wiki]) },
      ]),
    );
  }

  async function expectSystems(held?: Set<string>): Promise<void> {
    expect(await ldapAccounts()).toEqual(expectedLdap());
    expect(await pgAccounts()).toEqual(expectedPg());
    expect(withoutVersion(await wikiAccounts())).toEqual(expectedWiki(held));
  }

  // ---- the API, through kubectl ----

  /** `kubectl get users`: NAME → STATE, READY, SYSTEMS columns. */
  function usersTable(): Map<string, { state: string; ready: string; systems: string }> {
    const lines = kubectlOk(['get', 'users', '-n', namespace, '--no-headers']).trim().split('\n').filter(Boolean);
    return new Map(
      lines.map((line) => {
        const [name, state, ready, systems] = line.trim().split(/\s+/);
        return [name!, { state: state!, ready: ready!, systems: systems! }];
      }),
    );
  }

  function userStatus(name: string): {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    accounts?: { system: string; state: string; entitlements?: string[]; message?: string }[];
    systems?: string;
    accessEndsAt?: string;
  } {
    return JSON.parse(kubectlOk(['get', 'user', name, '-n', namespace, '-o', 'json'])).status ?? {};
  }

  function systemCondition(system: string, type: string): { status: string; reason: string; message: string } | undefined {
    const status = JSON.parse(kubectlOk(['get', 'csys', system, '-n', namespace, '-o', 'json'])).status ?? {};
    return status.conditions?.find((c: { type: string }) => c.type === type);
  }

  const events = (name: string, reason: string) => eventsOn(namespace, name, reason).map((e) => e.message);

  function userManifest(name: string, department: Department, spec: Partial<SpecOf<'User'>> = {}): Manifest {
    const [given, family] = [name.split('-')[0]!, name.split('-')[1] ?? 'Staff'];
    return user(
      { name, namespace, labels: { department } },
      { givenName: given, familyName: family, email: `${name}@example.org`, department, title: 'Staff', ...spec },
    );
  }

  function moveTo(name: string, department: Department): void {
    kubectlOk(['label', 'user', name, '-n', namespace, `department=${department}`, '--overwrite']);
    kubectlOk(['patch', 'user', name, '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec: { department } })]);
    people.get(name)!.department = department;
  }

  beforeAll(async () => {
    [slapd, postgres, scim] = await Promise.all([startSlapd(), startPostgres(), startScim()]);
    await withLdap(async (client) => {
      for (const cn of LDAP_GROUPS) await client.add(`cn=${cn},${slapd.groupsDN}`, { objectClass: 'groupOfNames', cn, member: EMPTY_GROUP_PLACEHOLDER });
    });
    for (const role of PG_GROUPS) await sql(`CREATE ROLE ${role} NOLOGIN`);
    // A login role outside the managed scope: Rollcall must never list or touch it.
    await sql('CREATE ROLE reporting LOGIN');
    for (const displayName of WIKI_GROUPS) {
      const response = await fetch(`${scim.baseUrl}/Groups`, {
        method: 'POST',
        headers: { authorization: `Bearer ${scim.token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName }),
      });
      if (!response.ok) throw new Error(`create SCIM group ${displayName}: HTTP ${response.status}`);
    }

    namespace = createNamespace('lifecycle');
    const secret = (name: string, data: Record<string, string>) => {
      kubectlOk(['create', 'secret', 'generic', name, '-n', namespace, ...Object.entries(data).map(([k, v]) => `--from-literal=${k}=${v}`)]);
      kubectlOk(['label', 'secret', name, '-n', namespace, 'rollcall.dev/credentials=true']);
      kubectlOk(['annotate', 'secret', name, '-n', namespace, 'rollcall.dev/allow-insecure=true']); // the test's servers speak plaintext
    };
    secret('corp-ldap-credentials', { bindDN: slapd.adminDN, password: slapd.adminPassword });
    secret('analytics-db-credentials', { username: postgres.adminUser, password: postgres.adminPassword });
    secret('wiki-credentials', { token: scim.token });

    const departmentRole = (name: Department) => [
      accessRole({ name, namespace }, { 'corp-ldap': GRANTS[name].ldap, 'analytics-db': GRANTS[name].pg, wiki: GRANTS[name].wiki }, { includes: ['employee'] }),
      accessBinding({ name, namespace }, { userSelector: { matchLabels: { department: name } }, reason: 'department membership' }),
    ];
    const manifests = [
      ldapSystem({ name: 'corp-ldap', namespace }, slapd, {
        ldap: { flavour: 'openldap' },
        deprovision: { policy: 'disable' },
        orphans: 'report',
        resyncInterval: '5s',
      }),
      postgresSystem({ name: 'analytics-db', namespace }, postgres, { deprovision: { policy: 'delete' }, orphans: 'delete', resyncInterval: '5s' }),
      scimSystem({ name: 'wiki', namespace }, scim, {
        deprovision: { policy: 'disable' },
        orphans: 'report',
        deletionGuard: { maxCount: 3 },
        resyncInterval: '5s',
      }),
      accessRole({ name: 'employee', namespace }, { 'corp-ldap': EMPLOYEE.ldap, wiki: EMPLOYEE.wiki }),
      ...(Object.keys(GRANTS) as Department[]).flatMap(departmentRole),
    ];
    kubectlOk(['apply', '-f', '-'], manifestsYaml(manifests));

    rollcall = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'rollcall.js'), 'run', '--kubeconfig', inject('kubeconfig'), '--namespace', namespace, '--no-leader-elect', '--log-level', 'warn'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    rollcall.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    rollcall.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    await eventually(() => {
      for (const system of ['corp-ldap', 'analytics-db', 'wiki']) expect(systemCondition(system, 'Connected')?.status, system).toBe('True');
    });
  });

  afterAll(async () => {
    if (rollcall && rollcall.exitCode === null) {
      rollcall.kill('SIGCONT');
      const exited = new Promise((resolve) => rollcall.once('exit', resolve));
      rollcall.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (rollcall.exitCode === null) rollcall.kill('SIGKILL');
    }
    await Promise.all([slapd?.close(), postgres?.close(), scim?.close()]);
  });

  it('1. hires 20: every system holds exactly their accounts and groups, every User is Ready 3/3', async () => {
    const departments: Department[] = [...Array(8).fill('engineering'), ...Array(6).fill('sales'), ...Array(6).fill('finance')];
    const manifests = departments.map((department, i) => {
      const name = `${department.slice(0, 3)}${String(i + 1).padStart(2, '0')}-hire`;
      people.set(name, { department });
      return userManifest(name, department, { employeeId: `E${1000 + i}` });
    });
    kubectlOk(['apply', '-f', '-'], manifestsYaml(manifests));

    const wait = kubectl(['wait', '--for=condition=Ready', 'users', '--all', '-n', namespace, '--timeout=60s']);
    expect(wait.code, wait.stderr + logs.join('')).toBe(0);
    await eventually(() => expectSystems());
    const table = usersTable();
    expect(table.size).toBe(20);
    for (const [name, row] of table) expect(row, name).toEqual({ state: 'active', ready: 'True', systems: '3/3' });
    // Twenty joiners at once share empty groups: no grant may have failed on the way.
    expect(kubectlOk(['get', 'events', '-n', namespace, '--field-selector', 'reason=SyncFailed', '-o', 'jsonpath={.items[*].message}'])).toBe('');
    expect(userStatus('eng01-hire').accounts).toEqual([
      expect.objectContaining({ system: 'analytics-db', state: 'present', entitlements: ['engineers'] }),
      expect.objectContaining({
        system: 'corp-ldap',
        state: 'present',
        id: `uid=eng01-hire,${slapd.peopleDN}`,
        entitlements: ['engineering', 'staff', 'vpn-users'],
      }),
      expect.objectContaining({ system: 'wiki', state: 'present', entitlements: ['all-hands', 'engineering'] }),
    ]);
    // The foreign login role outside the managed scope is still there, untouched.
    expect((await sql("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'reporting'")).rows).toEqual([{ rolcanlogin: true }]);
  });

  it('2. moves 3 between departments: exactly their entitlements change, an unaffected account is not written', async () => {
    const bystander = 'eng02-hire';
    const before = { ldap: await ldapEntryCSN(bystander), pg: await pgFingerprint(bystander), wiki: (await wikiAccounts())[bystander]!.version };
    moveTo('eng01-hire', 'sales');
    moveTo('sal09-hire', 'finance');
    moveTo('fin15-hire', 'engineering');

    await eventually(() => expectSystems());
    const wait = kubectl(['wait', '--for=condition=Ready', 'user/eng01-hire', 'user/sal09-hire', 'user/fin15-hire', '-n', namespace, '--timeout=30s']);
    expect(wait.code, wait.stderr).toBe(0);
    expect(userStatus('eng01-hire').accounts?.find((a) => a.system === 'analytics-db')?.entitlements).toEqual(['analysts']);
    expect(events('eng01-hire', 'EntitlementRevoked').join('\n')).toContain('corp-ldap: revoke engineering');
    // A full resync later, the bystander's entry, role and SCIM resource are still byte-for-byte unwritten,
    // and no User or ConnectedSystem got a status write: a resync with nothing to do makes no noise.
    const versions = () =>
      kubectlOk(['get', 'users,connectedsystems', '-n', namespace, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion} {end}']);
    // The movers' revokes count in the deletion guard's window (status.recentDeprovisions) for one
    // resyncInterval; its expiry is a real status change. Quiet starts once it has expired.
    await eventually(() => {
      const windows = kubectlOk(['get', 'connectedsystems', '-n', namespace, '-o', 'jsonpath={range .items[*]}{.status.recentDeprovisions}{end}']);
      expect(windows).toBe('');
    }, 3 * RESYNC_MS);
    await sleep(1000);
    const quiet = versions();
    await sleep(RESYNC_MS + 1000);
    await expectSystems();
    expect({ ldap: await ldapEntryCSN(bystander), pg: await pgFingerprint(bystander), wiki: (await wikiAccounts())[bystander]!.version }).toEqual(before);
    expect(versions()).toBe(quiet);
  });

  let contractorGoneAt = 0;

  it("3. a contractor's access ends at validUntil by itself: disabled in ldap and wiki, dropped in postgres", async () => {
    const validUntil = new Date(Date.now() + 12_000);
    people.set('con-temp', { department: 'sales' });
    kubectlOk(['apply', '-f', '-'], manifestsYaml([userManifest('con-temp', 'sales', { employeeType: 'contractor', validUntil: validUntil.toISOString() })]));
    const wait = kubectl(['wait', '--for=condition=Ready', 'user/con-temp', '-n', namespace, '--timeout=30s']);
    expect(wait.code, wait.stderr).toBe(0);
    await eventually(() => expectSystems());
    expect(Date.now(), 'the contractor was provisioned too late to observe the expiry').toBeLessThan(validUntil.getTime() - 1000);
    expect(new Date(userStatus('con-temp').accessEndsAt!).getTime()).toBe(new Date(validUntil.toISOString()).getTime());

    // Nothing else happens now: no kubectl change, only the clock.
    people.get('con-temp')!.gone = 'expired';
    await sleep(validUntil.getTime() - Date.now());
    await eventually(() => expectSystems(), 10_000, 200);
    contractorGoneAt = Date.now();
    expect(contractorGoneAt - validUntil.getTime(), 'access should be gone within a few seconds of validUntil').toBeLessThan(4000);

    await eventually(() => {
      const status = userStatus('con-temp');
      expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Deprovisioned' });
      expect(status.conditions?.find((c) => c.type === 'Expired')).toMatchObject({ status: 'True', reason: 'ValidUntilPassed' });
      // The binding still reaches all three systems, so all three report the deprovision as done.
      expect(status.accounts?.map((a) => [a.system, a.state])).toEqual([
        ['analytics-db', 'absent'],
        ['corp-ldap', 'disabled'],
        ['wiki', 'disabled'],
      ]);
      // Declared active, but past validUntil: STATE says so (status.state), not active.
      expect(usersTable().get('con-temp')).toEqual({ state: 'expired', ready: 'True', systems: '3/3' });
    }, 15_000);
    expect(events('con-temp', 'AccountDeleted').join('\n')).toContain('analytics-db');
  });

  it('4. five leavers trip the wiki deletion guard; ldap and postgres proceed; an approval releases the pass', async () => {
    // The guard counts this pass plus the deprovisions of the last resyncInterval: let the contractor's age out.
    await sleep(Math.max(0, contractorGoneAt + RESYNC_MS + 1500 - Date.now()));
    const terminated = ['eng03-hire', 'sal10-hire', 'sal11-hire', 'fin16-hire'];
    const deleted = 'fin17-hire';
    // The HR batch arrives one kubectl call, so one watch event, at a time while Rollcall runs. No
    // leaver waits while the pass is within the limit, so the first ones may be cut off at once; once
    // pending plus recent deprovisions exceed it, the rest are held: never more than the limit goes.
    for (const name of terminated) kubectlOk(['patch', 'user', name, '-n', namespace, '--type=merge', '-p', '{"spec":{"state":"terminated"}}']);
    kubectlOk(['delete', 'user', deleted, '-n', namespace, '--wait=false']);
    for (const name of terminated) people.get(name)!.gone = 'terminated';
    people.get(deleted)!.gone = 'deleted';
    const leavers = new Set([...terminated, deleted]);

    // The guard trips as soon as the pass exceeds the limit; its condition follows the count up to the whole pass.
    const guard = await eventually(() => {
      const condition = systemCondition('wiki', 'DeletionGuardTripped');
      expect(condition?.status).toBe('True');
      expect(condition?.message).toContain('would disable, delete or revoke entitlements of 5 accounts');
      return condition!;
    });
    expect(guard.reason).toBe('TooManyDeprovisions');
    expect(guard.message).toContain('would disable, delete or revoke entitlements of 5 accounts');
    expect(guard.message).toContain('maxCount 3');
    const approval = /rollcall\.dev\/approve-deprovision="(\d+)"/.exec(guard.message)?.[1];
    expect(approval).toBe('5');
    expect(events('wiki', 'GuardTripped')).toHaveLength(1);

    // LDAP and PostgreSQL are done; wiki deprovisioned at most its limit (3), and holds the others.
    let held = new Set<string>();
    await eventually(async () => {
      const wiki = await wikiAccounts();
      held = new Set([...leavers].filter((name) => wiki[name]?.active));
      expect(leavers.size - held.size).toBeLessThanOrEqual(3);
      expect(held.size).toBeGreaterThanOrEqual(2);
      await expectSystems(held);
    });
    await eventually(() => {
      const table = usersTable();
      for (const name of terminated) expect(table.get(name), name).toMatchObject({ state: 'terminated', ready: held.has(name) ? 'False' : 'True' });
      const heldTerminated = terminated.find((name) => held.has(name))!;
      const status = userStatus(heldTerminated);
      expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'DeletionGuardTripped' });
      expect(status.accounts?.find((a) => a.system === 'wiki')?.message).toContain('held by the deletion guard');
    });
    // A deleted User waits behind its finalizer while its wiki account is held.
    if (held.has(deleted)) expect(kubectlOk(['get', 'user', deleted, '-n', namespace, '-o', 'jsonpath={.metadata.deletionTimestamp}'])).not.toBe('');
    await sleep(RESYNC_MS + 1000);
    expect(withoutVersion(await wikiAccounts()), 'still held a resync later').toEqual(expectedWiki(held));

    kubectlOk(['annotate', 'csys', 'wiki', '-n', namespace, `rollcall.dev/approve-deprovision=${approval}`]);
    await eventually(async () => {
      expect(kubectl(['get', 'user', deleted, '-n', namespace]).stderr).toContain('NotFound');
    });
    // Gone from the API only after its wiki account was disabled.
    expect((await wikiAccounts())[deleted]).toMatchObject({ active: false, groups: [] });
    await eventually(() => expectSystems());
    await eventually(() => {
      const table = usersTable();
      for (const name of terminated) expect(table.get(name), name).toEqual({ state: 'terminated', ready: 'True', systems: '3/3' });
      expect(systemCondition('wiki', 'DeletionGuardTripped')?.status).toBe('False');
      // The approval is spent once the pass is within the limit again.
      expect(kubectlOk(['get', 'csys', 'wiki', '-n', namespace, '-o', 'jsonpath={.metadata.annotations}'])).not.toContain('approve-deprovision');
    }, 20_000);
  });

  it('5. a group membership added by hand in ldap is reverted at the next resync', async () => {
    const dn = `uid=eng04-hire,${slapd.peopleDN}`;
    await withLdap((client) =>
      client.modify(`cn=sales,${slapd.groupsDN}`, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn] }) })),
    );
    expect(await ldapGroupMembers('sales')).toContain(dn);
    await eventually(async () => expect(await ldapGroupMembers('sales')).not.toContain(dn), 15_000);
    await expectSystems();
    await eventually(() => expect(events('eng04-hire', 'DriftCorrected').join('\n')).toContain('corp-ldap: revoke sales'));
  });

  it('6. a login role created by hand in the managed scope of postgres is deleted as an orphan', async () => {
    await sql('CREATE ROLE intruder LOGIN');
    await sql(`GRANT ${pg.escapeIdentifier(pgMarker())} TO intruder`);
    await eventually(async () => expect((await sql("SELECT 1 FROM pg_roles WHERE rolname = 'intruder'")).rows).toEqual([]), 15_000);
    await eventually(() => {
      expect(events('analytics-db', 'OrphanFound').join('\n')).toContain('intruder');
      expect(events('analytics-db', 'AccountDeleted').join('\n')).toContain('orphan intruder: delete account');
    });
    await expectSystems();
    // Outside the managed scope nothing is touched.
    expect((await sql("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'reporting'")).rows).toEqual([{ rolcanlogin: true }]);
    // corp-ldap and wiki report the deleted User's disabled account as an orphan (policy report).
    await eventually(() => {
      for (const system of ['corp-ldap', 'wiki']) {
        expect(JSON.parse(kubectlOk(['get', 'csys', system, '-n', namespace, '-o', 'json'])).status.orphaned, system).toBe(1);
        expect(events(system, 'OrphanFound').join('\n'), system).toContain('fin17-hire');
      }
    });
  });

  it('7. with the wiki down, a joiner gets ldap and postgres at once, and wiki once it is back', async () => {
    await scim.stop();
    try {
      people.set('eng21-hire', { department: 'engineering' });
      kubectlOk(['apply', '-f', '-'], manifestsYaml([userManifest('eng21-hire', 'engineering')]));
      await eventually(async () => {
        expect((await ldapAccounts())['eng21-hire']).toEqual(expectedLdap()['eng21-hire']);
        expect((await pgAccounts())['eng21-hire']).toEqual(expectedPg()['eng21-hire']);
      }, 15_000);
      await eventually(() => {
        const status = userStatus('eng21-hire');
        const ready = status.conditions?.find((c) => c.type === 'Ready');
        expect(ready).toMatchObject({ status: 'False', reason: 'SystemUnavailable' });
        expect(ready?.message).toMatch(/^wiki: /);
        expect(status.accounts?.find((a) => a.system === 'wiki')).toMatchObject({ state: 'error' });
        expect(usersTable().get('eng21-hire')).toEqual({ state: 'active', ready: 'False', systems: '2/3' });
      }, 15_000);
    } finally {
      await scim.restart();
    }
    const wait = kubectl(['wait', '--for=condition=Ready', 'user/eng21-hire', '-n', namespace, '--timeout=60s']);
    expect(wait.code, wait.stderr + logs.join('').split('\n').slice(-30).join('\n')).toBe(0);
    await eventually(() => expectSystems(), 30_000);
    await eventually(() => {
      const table = usersTable();
      for (const [name, person] of people) {
        if (person.gone === 'deleted') expect(table.has(name)).toBe(false);
        else
          expect(table.get(name), name).toEqual({
            state: person.gone === 'terminated' || person.gone === 'expired' ? person.gone : 'active',
            ready: 'True',
            systems: '3/3',
          });
      }
    }, 30_000);
    expect(rollcall.exitCode).toBeNull();
  });
});
