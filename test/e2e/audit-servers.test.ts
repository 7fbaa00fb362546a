// `rollcall audit` against real servers (PostgreSQL, OpenLDAP's slapd, a SCIM 2.0 server): what
// `rollcall run --once` provisioned, then changed by hand behind Rollcall's back, is reported as
// orphan, creep, missing and expired, beside the declarations' own separation-of-duties conflicts
// and pending approvals, in every output format, with --fail-on's exit code.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditDocument } from '../../src/cli/audit-report.ts';
import { EMPTY_GROUP_PLACEHOLDER } from '../../src/connectors/ldap/index.ts';
import { adminQuery, startPostgres, type PostgresServer } from '../servers/postgres.ts';
import { start as startScim, type ScimServer } from '../servers/scim.ts';
import { start as startSlapd, type SlapdServer } from '../servers/slapd.ts';
import {
  accessBinding,
  accessRole,
  credentialsSecret,
  ldapSystem,
  postgresSystem,
  scimSystem,
  user,
  writeManifests,
  type Manifest,
} from '../helpers/manifests.ts';
import { rollcall } from '../helpers/rollcall-cli.ts';

const SYSTEM = 'target';
/** What the ConnectedSystem `target` sets beyond its server, the same on each. */
const TARGET = { deprovision: { policy: 'delete' }, orphans: 'report' } as const;
const GROUPS = ['staff', 'admins', 'contractors', 'submitters', 'approvers'];

/** One real server, its groups made, and the changes a person makes there by hand as its administrator. */
interface Backend {
  type: 'postgres' | 'ldap' | 'scim';
  /** The credentials Secret and the ConnectedSystem `target` in namespace acme. */
  manifests(): Manifest[];
  grant(userName: string, group: string): Promise<void>;
  revoke(userName: string, group: string): Promise<void>;
  /** An account carrying Rollcall's managed-scope marker that no User declares. */
  createOrphan(userName: string): Promise<void>;
  close(): Promise<void>;
}

async function postgresBackend(): Promise<Backend> {
  const postgres: PostgresServer = await startPostgres();
  const sql = async (text: string) => void (await adminQuery(postgres, text));
  for (const group of GROUPS) await sql(`CREATE ROLE ${group} NOLOGIN`);
  return {
    type: 'postgres',
    manifests: () => [
      credentialsSecret(`${SYSTEM}-credentials`, { username: postgres.adminUser, password: postgres.adminPassword }),
      postgresSystem(SYSTEM, postgres, TARGET),
    ],
    grant: (userName, group) => sql(`GRANT ${group} TO ${userName}`),
    revoke: (userName, group) => sql(`REVOKE ${group} FROM ${userName}`),
    // The managed scope is membership in the system's marker role (by default "rollcall:<namespace>/<name>").
    createOrphan: (userName) => sql(`CREATE ROLE ${userName} LOGIN IN ROLE "rollcall:acme/${SYSTEM}"`),
    close: () => postgres.close(),
  };
}

async function ldapBackend(): Promise<Backend> {
  const slapd: SlapdServer = await startSlapd();
  const asAdmin = async (fn: (client: Client) => Promise<void>) => {
    const client = new Client({ url: slapd.url, timeout: 5000, connectTimeout: 2000 });
    await client.bind(slapd.adminDN, slapd.adminPassword);
    try {
      await fn(client);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  };
  await asAdmin(async (client) => {
    for (const group of GROUPS)
      await client.add(`cn=${group},${slapd.groupsDN}`, { objectClass: ['groupOfNames'], cn: group, member: [EMPTY_GROUP_PLACEHOLDER] });
  });
  const member = (operation: 'add' | 'delete', userName: string, group: string) =>
    asAdmin((client) =>
      client.modify(
        `cn=${group},${slapd.groupsDN}`,
        new Change({ operation, modification: new Attribute({ type: 'member', values: [`uid=${userName},${slapd.peopleDN}`] }) }),
      ),
    );
  return {
    type: 'ldap',
    manifests: () => [
      credentialsSecret(`${SYSTEM}-credentials`, { bindDN: slapd.adminDN, password: slapd.adminPassword }),
      ldapSystem(SYSTEM, slapd, { ...TARGET, ldap: { flavour: 'openldap' } }),
    ],
    grant: (userName, group) => member('add', userName, group),
    revoke: (userName, group) => member('delete', userName, group),
    // OpenLDAP's managed-scope marker: businessCategory: rollcall:<namespace>/<name>, one level under peopleDN.
    createOrphan: (userName) =>
      asAdmin((client) =>
        client.add(`uid=${userName},${slapd.peopleDN}`, {
          objectClass: ['inetOrgPerson'],
          uid: userName,
          cn: userName,
          sn: userName,
          businessCategory: `rollcall:acme/${SYSTEM}`,
        }),
      ),
    close: () => slapd.close(),
  };
}

async function scimBackend(): Promise<Backend> {
  const scim: ScimServer = await startScim();
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${scim.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${scim.token}`, 'content-type': 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    const text = await response.text();
    return text ? JSON.parse(text) : undefined;
  };
  const idOf = async (resource: 'Users' | 'Groups', attribute: string, value: string) => {
    const list = (await call('GET', `/${resource}?filter=${encodeURIComponent(`${attribute} eq ${JSON.stringify(value)}`)}`)) as {
      Resources?: { id: string }[];
    };
    const id = list.Resources?.[0]?.id;
    if (!id) throw new Error(`no SCIM ${resource} with ${attribute} ${value}`);
    return id;
  };
  const patchGroup = async (group: string, operation: Record<string, unknown>) =>
    call('PATCH', `/Groups/${await idOf('Groups', 'displayName', group)}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [operation],
    });
  for (const displayName of GROUPS) await call('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName });
  return {
    type: 'scim',
    manifests: () => [credentialsSecret(`${SYSTEM}-credentials`, { token: scim.token }), scimSystem(SYSTEM, scim, TARGET)],
    grant: async (userName, group) =>
      void (await patchGroup(group, { op: 'add', path: 'members', value: [{ value: await idOf('Users', 'userName', userName) }] })),
    revoke: async (userName, group) =>
      void (await patchGroup(group, { op: 'remove', path: `members[value eq ${JSON.stringify(await idOf('Users', 'userName', userName))}]` })),
    // The SCIM managed-scope marker: externalId rollcall:<namespace>/<name>:<userName>.
    createOrphan: async (userName) =>
      void (await call('POST', '/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName,
        externalId: `rollcall:acme/${SYSTEM}:${userName}`,
        active: true,
      })),
    close: () => scim.close(),
  };
}

/** The declarations: everyone is staff, cal a contractor, dee both submitter and approver (which conflict), eve waits for admin. */
function declarations(contractEnds?: string): Manifest[] {
  const grants = (group: string) => ({ [SYSTEM]: [group] });
  return [
    accessRole('staff', grants('staff')),
    accessRole('contractor', grants('contractors')),
    accessRole('submitter', grants('submitters'), { conflictsWith: ['approver'] }),
    accessRole('approver', grants('approvers')),
    accessRole('admin', grants('admins'), { requiresApproval: true }),
    accessBinding('staff', { users: ['ann', 'ben', 'cal', 'dee'] }),
    accessBinding('cal-contract', { role: 'contractor', users: ['cal'], validUntil: contractEnds }),
    accessBinding('dee-submit', { role: 'submitter', users: ['dee'] }),
    accessBinding('dee-approve', { role: 'approver', users: ['dee'] }),
    accessBinding('eve-admin', { role: 'admin', users: ['eve'], requestedBy: 'rita', reason: 'on-call cover' }),
    ...['ann', 'ben', 'cal', 'dee', 'eve'].map((name) => user(name)),
  ];
}

/** [kind, userName, entitlement, role, binding], in the report's order. */
const EXPECTED: [string, string, string, string, string][] = [
  ['orphan', 'zed', '', '', ''],
  ['creep', 'ann', 'admins', '', ''],
  ['missing', 'ben', 'staff', '', ''],
  ['expired', 'cal', 'contractors', 'contractor', 'cal-contract'],
  ['conflict', 'dee', '', 'approver + submitter', 'dee-approve, dee-submit'],
  ['pendingApproval', '', '', 'admin', 'eve-admin'],
];
// An instant in the past on any day this test can run: the contract has ended by the time of the audit.
const CONTRACT_ENDED = '2001-01-01T00:00:00Z';

describe.each([
  ['PostgreSQL', postgresBackend],
  ['OpenLDAP (slapd)', ldapBackend],
  ['SCIM 2.0 (scim2-server)', scimBackend],
])('rollcall audit against %s', (_name, startBackend) => {
  let backend: Backend;
  let root = '';
  let manifests = '';
  const audit = (args: string[]) => rollcall(['audit', '-f', manifests, ...args], root);

  beforeAll(async () => {
    backend = await startBackend();
    root = mkdtempSync(join(tmpdir(), `rollcall-audit-${backend.type}-`));
    manifests = join(root, 'company');
    mkdirSync(manifests);
    const write = (contractEnds?: string) => writeManifests(manifests, 'all.yaml', [...backend.manifests(), ...declarations(contractEnds)]);
    write();
    const run = await rollcall(['run', '--manifests', manifests, '--once', '--no-leader-elect'], root);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    // By hand, behind Rollcall's back: ann gets admins, ben loses staff, someone makes zed with the marker.
    await backend.grant('ann', 'admins');
    await backend.revoke('ben', 'staff');
    await backend.createOrphan('zed');
    // Time passes without a run: cal's contract has ended while the system still grants it. (No run
    // reads the manifests between this edit and the audits.)
    write(CONTRACT_ENDED);
    expect(readFileSync(join(manifests, 'all.yaml'), 'utf8')).toContain(CONTRACT_ENDED);
  }, 300_000);
  afterAll(async () => {
    await backend?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('-o json: orphan, creep, missing, expired, conflict and pending approval; exit 2 over --fail-on 5', async () => {
    const result = await audit(['-o', 'json', '--fail-on', '5']);
    expect(result.code, result.stderr).toBe(2);
    const doc = JSON.parse(result.stdout) as AuditDocument;
    expect(doc.systems.map((s) => [s.namespace, s.name, s.type, s.status])).toEqual([['acme', SYSTEM, backend.type, 'audited']]);
    const findings = doc.systems[0]!.findings;
    expect(findings.map((f) => [f.kind, f.userName ?? '', f.entitlement ?? '', f.role ?? '', f.binding ?? ''])).toEqual(EXPECTED);
    expect(findings.find((f) => f.kind === 'expired')?.at).toBe('2001-01-01T00:00:00.000Z');
    expect(findings.find((f) => f.kind === 'pendingApproval')?.detail).toMatch(/^awaiting approval: requested by rita; /);
    expect(findings.find((f) => f.kind === 'conflict')?.detail).toMatch(/separation of duties/);
    expect(doc.totals).toMatchObject({
      systems: 1,
      errors: 0,
      findings: 6,
      orphan: 1,
      creep: 1,
      missing: 1,
      expired: 1,
      expiring: 0,
      conflict: 1,
      pendingApproval: 1,
    });
  });

  it('-o csv: a header and one row per finding; exit 0 at --fail-on 6', async () => {
    const result = await audit(['-o', 'csv', '--fail-on', '6']);
    expect(result.code, result.stderr).toBe(0);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    expect(header).toBe('namespace,system,kind,user,entitlement,role,binding,at,detail');
    // No field here holds a comma except the conflict's binding pair, which is quoted.
    const fields = (row: string) => [...row.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].map((m) => m[1]!.replace(/^"(.*)"$/, '$1').replaceAll('""', '"'));
    expect(rows.map((row) => fields(row).slice(0, 7))).toEqual(
      EXPECTED.map(([kind, user, entitlement, roleName, bindingName]) => ['acme', SYSTEM, kind, user, entitlement, roleName, bindingName]),
    );
  });

  it('-o table: one line per finding and the summary; exit 0 without --fail-on', async () => {
    const result = await audit([]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+SYSTEM\s+KIND\s+USER\s+ENTITLEMENT\s+ROLE\s+BINDING\s+AT\s+DETAIL$/);
    // Columns are padded to the header's widths: cut each line where the header's columns start.
    const starts = ['NAMESPACE', 'SYSTEM', 'KIND', 'USER', 'ENTITLEMENT', 'ROLE', 'BINDING', 'AT'].map((column) =>
      lines[0]!.search(new RegExp(`\\b${column}\\b`)),
    );
    const cells = (line: string) => starts.slice(0, 7).map((start, i) => line.slice(start, starts[i + 1]).trim());
    const body = lines.slice(1, 1 + EXPECTED.length);
    expect(body.map(cells)).toEqual(
      EXPECTED.map(([kind, user, entitlement, roleName, bindingName]) => ['acme', SYSTEM, kind, user, entitlement, roleName, bindingName]),
    );
    expect(body.find((line) => line.includes('expired'))).toMatch(/\bcal\s+contractors\s+contractor\s+cal-contract\s+2001-01-01T00:00:00\.000Z\s/);
    expect(lines.at(-1)).toBe('6 finding(s) in 1 system(s): 1 orphan, 1 creep, 1 missing, 1 expired, 1 conflict, 1 pendingApproval.');
  });

  it('-o markdown: a section for the system with a row per finding; exit 2 over --fail-on 0', async () => {
    const result = await audit(['-o', 'markdown', '--fail-on', '0']);
    expect(result.code, result.stderr).toBe(2);
    const text = result.stdout;
    expect(text).toMatch(/^# Access audit \(/);
    expect(text).toContain(`## acme/${SYSTEM} (${backend.type})`);
    const rows = text.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| kind '));
    expect(rows.map((row) => row.slice(2, -2).split(' | ').slice(0, 5))).toEqual(
      EXPECTED.map(([kind, user, entitlement, roleName, bindingName]) => [kind, user, entitlement, roleName, bindingName]),
    );
  });
});
