// Write-ahead state in standalone mode, against real slapd and PostgreSQL: `rollcall run
// --manifests DIR` is killed (SIGKILL) as soon as its first accounts appear in the servers, long
// before the state file's periodic write. The Users whose accounts were made are then removed from
// the files. The next `--once` must still know it made them (their finalizer was on disk before
// the account was created) and deprovision every one: disabled in slapd (ppolicy lock) and in
// PostgreSQL (NOLOGIN), each named in its output. Found only as an orphan, they would stay usable.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'ldapts';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../servers/postgres.ts';
import { start as startSlapd, type SlapdServer } from '../servers/slapd.ts';
import {
  accessBinding,
  accessRole,
  ldapSystem,
  manifestsYaml,
  postgresCredentials,
  postgresSystem,
  slapdCredentials,
  user,
  type SpecOf,
} from '../helpers/manifests.ts';
import { ROLLCALL, rollcall, type RollcallOutcome } from '../helpers/rollcall-cli.ts';

const USERS = Array.from({ length: 120 }, (_, i) => `joiner${String(i).padStart(3, '0')}`);

function manifests(slapd: SlapdServer, postgres: PostgresServer, users: readonly string[]): string {
  // Every removed User is deprovisioned in the same pass: the guard is not what this test is about.
  const policy = {
    deprovision: { policy: 'disable' },
    orphans: 'report',
    deletionGuard: { maxCount: 1000 },
  } satisfies Partial<SpecOf<'ConnectedSystem'>>;
  return manifestsYaml([
    slapdCredentials('directory', slapd),
    ldapSystem('directory', slapd, { ...policy, ldap: { flavour: 'openldap' } }),
    postgresCredentials('db', postgres),
    postgresSystem('db', postgres, policy),
    accessRole('staff', { directory: [], db: [] }),
    accessBinding('everyone', { role: 'staff', userSelector: { matchLabels: { team: 'acme' } } }),
    ...users.map((name) => user({ name, labels: { team: 'acme' } }, { givenName: name, familyName: 'Test' })),
  ]);
}

async function withLdap<T>(slapd: SlapdServer, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url: slapd.url });
  await client.bind(slapd.adminDN, slapd.adminPassword);
  try {
    return await use(client);
  } finally {
    await client.unbind();
  }
}

/** uid -> locked, for every account under people. */
async function ldapAccounts(slapd: SlapdServer): Promise<Map<string, boolean>> {
  return withLdap(slapd, async (client) => {
    const { searchEntries } = await client.search(slapd.peopleDN, { scope: 'one', filter: '(uid=*)', attributes: ['uid', 'pwdAccountLockedTime'] });
    return new Map(searchEntries.map((e) => [String(e.uid), [e.pwdAccountLockedTime].flat().filter(Boolean).length > 0]));
  });
}

/** role -> can log in, for every role Rollcall may have made (named like the Users). */
async function pgRoles(postgres: PostgresServer): Promise<Map<string, boolean>> {
  const client = new pg.Client({ host: postgres.host, port: postgres.port, user: postgres.adminUser, password: postgres.adminPassword, database: 'postgres' });
  await client.connect();
  try {
    const { rows } = await client.query<{ rolname: string; rolcanlogin: boolean }>("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'joiner%'");
    return new Map(rows.map((r) => [r.rolname, r.rolcanlogin]));
  } finally {
    await client.end();
  }
}

describe('standalone mode writes its state ahead of the accounts it creates', () => {
  let slapd: SlapdServer;
  let postgres: PostgresServer;
  let root = '';
  let created: string[] = [];
  let second: RollcallOutcome;

  beforeAll(async () => {
    [slapd, postgres] = await Promise.all([startSlapd(), startPostgres()]);
    root = mkdtempSync(join(tmpdir(), 'rollcall-write-ahead-'));
    const dir = join(root, 'manifests');
    rmSync(dir, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    writeFileSync(join(dir, 'all.yaml'), manifests(slapd, postgres, USERS));

    const child = spawn(process.execPath, [ROLLCALL, 'run', '--manifests', dir], { cwd: root, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const startedAt = performance.now();
    // Killed at the first account either server shows: well inside the first second.
    for (;;) {
      const [ldap, db] = await Promise.all([ldapAccounts(slapd).catch(() => new Map()), pgRoles(postgres).catch(() => new Map())]);
      if (ldap.size + db.size > 0) break;
      if (performance.now() - startedAt > 60_000) throw new Error('no account appeared within 60 s');
      await sleep(5);
    }
    child.kill('SIGKILL');
    await exited;
    await sleep(200); // a request already sent may still land
    created = [...new Set([...(await ldapAccounts(slapd)).keys(), ...(await pgRoles(postgres)).keys()])].sort();
    writeFileSync(
      join(dir, 'all.yaml'),
      manifests(
        slapd,
        postgres,
        USERS.filter((u) => !created.includes(u)),
      ),
    );
    second = await rollcall(['run', '--manifests', dir, '--once'], root);
  }, 300_000);

  afterAll(async () => {
    await Promise.all([slapd?.stop(), postgres?.stop()]);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('killed before its first periodic state write, it had already made accounts', () => {
    expect(created.length).toBeGreaterThan(0);
    expect(created.length).toBeLessThan(USERS.length);
  });

  it('deprovisions every account it made for the Users removed meanwhile, and says so', async () => {
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const [ldap, db] = await Promise.all([ldapAccounts(slapd), pgRoles(postgres)]);
    for (const name of created) {
      if (ldap.has(name)) expect(ldap.get(name), `${name} in slapd`).toBe(true);
      if (db.has(name)) expect(db.get(name), `${name} in PostgreSQL`).toBe(false);
      expect(second.stdout).toMatch(new RegExp(`^\\s+${name}\\s+\\S+\\s+disable`, 'm'));
    }
  });

  it('creates the Users still declared, able to log in', async () => {
    const [ldap, db] = await Promise.all([ldapAccounts(slapd), pgRoles(postgres)]);
    for (const name of USERS.filter((u) => !created.includes(u))) {
      expect(ldap.get(name), `${name} in slapd`).toBe(false);
      expect(db.get(name), `${name} in PostgreSQL`).toBe(true);
    }
  });
});
