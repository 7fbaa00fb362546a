// Per-account failure isolation against real servers, through `rollcall run --manifests DIR --once`
// as a process: beside 40 good Users, one User whose e-mail slapd refuses (mail is IA5String), one
// whose binding grants a PostgreSQL role that does not exist, and one whose add request is larger
// than slapd accepts, so slapd drops the connection it came on, and with it every bystander's
// request in flight there. All 40 converge in every system, each bad User is in error naming
// itself, the system and the field or declaration to fix, the circuits stay closed, and the run
// exits 1. A system that is really down still opens its circuit.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Client } from 'ldapts';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/api/index.ts';
import { EMPTY_GROUP_PLACEHOLDER } from '../../src/connectors/ldap/index.ts';
import { startPostgres, type PostgresServer } from '../servers/postgres.ts';
import { start as startScim, type ScimServer } from '../servers/scim.ts';
import { start as startSlapd, type SlapdServer } from '../servers/slapd.ts';
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
  user as userManifest,
  writeManifests,
  type SpecOf,
} from '../helpers/manifests.ts';
import { rollcall } from '../helpers/rollcall-cli.ts';

const GOOD = Array.from({ length: 40 }, (_, i) => `good${String(i).padStart(2, '0')}`);
/** slapd drops a bound connection whose request is larger than this (sockbuf_max_incoming_auth). */
const MAX_REQUEST_BYTES = 2048;

function manifests(slapd: SlapdServer, postgres: PostgresServer, scim: ScimServer): string {
  // The test servers' systems are insecure and allowPrivateNetwork already (manifests.ts).
  const policy = { deprovision: { policy: 'delete' }, orphans: 'report' } satisfies Partial<SpecOf<'ConnectedSystem'>>;
  // team: acme is what the AccessBinding everyone selects.
  const user = (name: string, spec: Partial<SpecOf<'User'>> = {}) =>
    userManifest({ name, labels: { team: 'acme' } }, { givenName: name, familyName: 'Test', ...spec });
  return manifestsYaml([
    slapdCredentials('directory', slapd),
    ldapSystem('directory', slapd, { ...policy, ldap: { flavour: 'openldap', attributeMap: { bio: 'description', street: 'street' } } }),
    postgresCredentials('db', postgres),
    postgresSystem('db', postgres, policy),
    scimCredentials('app', scim),
    scimSystem('app', scim, policy),
    accessRole('staff', { directory: ['staff'], db: ['staff'], app: ['staff'] }),
    accessRole('ghost-reader', { db: ['ghost_reader'], app: ['ghosts'] }),
    accessBinding('everyone', { role: 'staff', userSelector: { matchLabels: { team: 'acme' } } }),
    accessBinding('ghost-grant', { role: 'ghost-reader', users: ['ghost'] }),
    ...GOOD.map((name) => user(name)),
    // mail is an IA5String in slapd's schema: an e-mail address with a non-ASCII letter is refused.
    user('umlaut', { attributes: { email: 'jörg@example.org' } }),
    user('ghost'),
    // Two values of 1,000 characters (each within the schema's limit) make an add request over MAX_REQUEST_BYTES.
    user('bulky', { attributes: { bio: 'b'.repeat(1000), street: 's'.repeat(1000) } }),
  ]);
}

describe('one bad User beside 40 good ones, against slapd, PostgreSQL and scim2-server', () => {
  let slapd: SlapdServer;
  let postgres: PostgresServer;
  let scim: ScimServer;
  let root = '';
  let run: { code: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    [slapd, postgres, scim] = await Promise.all([startSlapd(undefined, `sockbuf_max_incoming_auth ${MAX_REQUEST_BYTES}\n`), startPostgres(), startScim()]);
    const ldap = new Client({ url: slapd.url });
    await ldap.bind(slapd.adminDN, slapd.adminPassword);
    await ldap.add(`cn=staff,${slapd.groupsDN}`, { objectClass: ['groupOfNames'], cn: 'staff', member: [EMPTY_GROUP_PLACEHOLDER] });
    await ldap.unbind();
    await sql(postgres, 'CREATE ROLE staff NOLOGIN');
    await fetch(`${scim.baseUrl}/Groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${scim.token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'staff' }),
    });
    root = mkdtempSync(join(tmpdir(), 'rollcall-isolation-'));
    writeFileSync(join(root, 'all.yaml'), manifests(slapd, postgres, scim));
    run = await rollcall(['run', '--manifests', root, '--once'], root);
  }, 300_000);
  afterAll(async () => {
    await Promise.all([slapd?.close(), postgres?.close(), scim?.close()]);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('exits 1 and no circuit opened: no system was called unavailable', () => {
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout + run.stderr).not.toContain('is unavailable');
  });

  it('every good User has its account and group in every system', async () => {
    const ldap = new Client({ url: slapd.url });
    await ldap.bind(slapd.adminDN, slapd.adminPassword);
    try {
      const { searchEntries } = await ldap.search(`cn=staff,${slapd.groupsDN}`, { scope: 'base', attributes: ['member'] });
      const members = [searchEntries[0]!['member']].flat().map(String);
      expect(GOOD.filter((name) => !members.includes(`uid=${name},${slapd.peopleDN}`))).toEqual([]);
    } finally {
      await ldap.unbind();
    }
    const { rows } = await sql(
      postgres,
      "SELECT m.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member WHERE g.rolname = 'staff'",
    );
    const staff = rows.map((r) => r.rolname as string);
    expect(GOOD.filter((name) => !staff.includes(name))).toEqual([]);
    const groups = (await (await fetch(`${scim.baseUrl}/Groups`, { headers: { authorization: `Bearer ${scim.token}` } })).json()) as {
      Resources: { displayName: string; members?: { display?: string; value: string }[] }[];
    };
    const users = (await (await fetch(`${scim.baseUrl}/Users?count=200`, { headers: { authorization: `Bearer ${scim.token}` } })).json()) as {
      Resources: { id: string; userName: string }[];
    };
    const memberIds = new Set(groups.Resources.find((g) => g.displayName === 'staff')?.members?.map((m) => m.value));
    const inScim = users.Resources.filter((u) => memberIds.has(u.id)).map((u) => u.userName);
    expect(GOOD.filter((name) => !inScim.includes(name))).toEqual([]);
    // and the summary says so: each good User is Ready in 3 of 3 systems
    for (const name of GOOD) expect(run.stdout).toMatch(new RegExp(`^${name}\\s+active\\s+True\\s+3/3\\s`, 'm'));
  });

  it('the User whose value slapd refuses is in error there, naming the User, the system and the field', () => {
    const failure = failureLine(run.stdout, 'umlaut', 'directory');
    expect(failure).toContain('User umlaut');
    expect(failure).toContain('acme/directory');
    // slapd names mail; the system's attribute map leads back to the one field behind it.
    expect(failure).toContain('create account (umlaut Test) (spec.attributes.email) failed');
    expect(failure).toMatch(/InvalidSyntax \(21\): mail: value #0 invalid per syntax/);
  });

  it('the User granted a role PostgreSQL lacks and a group the SCIM server lacks is in error in both, naming the AccessRole and AccessBinding', () => {
    const inDb = failureLine(run.stdout, 'ghost', 'db');
    expect(inDb).toContain('User ghost: grant ghost_reader (AccessRole ghost-reader, AccessBinding ghost-grant) failed');
    expect(inDb).toContain('acme/db');
    const inApp = failureLine(run.stdout, 'ghost', 'app');
    expect(inApp).toContain('User ghost: grant ghosts (AccessRole ghost-reader, AccessBinding ghost-grant) failed');
    expect(inApp).toContain('acme/app');
    expect(run.stdout).toMatch(/^ghost\s+active\s+False\s+1\/3\s/m);
  });

  it('the User whose request makes slapd drop the connection is in error alone, as its own failure', () => {
    const failure = failureLine(run.stdout, 'bulky', 'directory');
    expect(failure).toContain('User bulky');
    expect(failure).toContain('spec.attributes.bio');
    expect(failure).toContain("only this account's request fails");
    // Its other systems are fine.
    expect(run.stdout).toMatch(/^bulky\s+active\s+False\s+2\/3\s/m);
  });

  it("the bad Users' Ready condition blames their own sync, not an unavailable system", () => {
    const state = JSON.parse(readFileSync(join(root, '.rollcall', `${basename(root)}.state.json`), 'utf8')) as { objects: { object: User }[] };
    const ready = (name: string) =>
      state.objects.find((o) => o.object.kind === 'User' && o.object.metadata.name === name)?.object.status?.conditions?.find((c) => c.type === 'Ready');
    for (const name of ['umlaut', 'ghost', 'bulky']) expect(ready(name), name).toMatchObject({ status: 'False', reason: 'SyncFailed' });
    expect(ready('good00')).toMatchObject({ status: 'True', reason: 'InSync' });
  });

  it('a system that is really down still opens its circuit', async () => {
    await slapd.stop();
    try {
      // A new User, so the stopped directory has something to do.
      writeManifests(root, 'late.yaml', [userManifest({ name: 'late', labels: { team: 'acme' } }, { givenName: 'late', familyName: 'Test' })]);
      const down = await rollcall(['run', '--manifests', root, '--once'], root);
      expect(down.code).toBe(1);
      expect(down.stdout).toContain('acme/directory is unavailable');
      expect(failureLine(down.stdout, 'late', 'directory')).toMatch(/ECONNREFUSED|unavailable/);
    } finally {
      await slapd.restart();
    }
  });
});

/** The --once output's failure line of one User in one system. */
function failureLine(stdout: string, user: string, system: string): string {
  const line = stdout.split('\n').find((l) => l.trim().startsWith(`User acme/${user} in ${system}:`));
  expect(line, stdout).toBeDefined();
  return line!;
}

async function sql(server: PostgresServer, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword, database: 'postgres' });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}
