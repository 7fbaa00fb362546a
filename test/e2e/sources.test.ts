// An HR feed in a ConfigMap drives `rollcall run` against the real API server: hires become Users
// provisioned into the embedded sqlite system through label-selected bindings, then a transfer, a
// termination, a rehire, and a truncated feed that trips the change guard and terminates nobody.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { describeDirectory } from '../../src/connectors/sqlite/directory.ts';
import { hrFeed, hrFeedWorld } from '../helpers/hr-feed.ts';
import { manifestsYaml } from '../helpers/manifests.ts';
import { createNamespace, kubectlOk } from './kube.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const HEADER = 'employee_id,login,first,last,email,dept,status';
const person = (id: string, login: string, dept: string, status = 'active') => `${id},${login},${login},Doe,${login}@acme.example,${dept},${status}`;

function manifests(namespace: string, dbPath: string): string {
  return manifestsYaml(hrFeedWorld({ namespace, db: dbPath, system: { resyncInterval: '10s' }, source: { interval: '2s' } }));
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('an IdentitySource against the real API server', () => {
  let namespace: string;
  let dbPath: string;
  let rollcall: ChildProcess;
  const logs: string[] = [];
  let rows: string[] = [];

  const feed = () => {
    kubectlOk(['apply', '-f', '-'], manifestsYaml([hrFeed(namespace, HEADER, rows)]));
  };
  const account = (userName: string) => describeDirectory(dbPath).find((row) => row.userName === userName);
  const users = () =>
    JSON.parse(kubectlOk(['get', 'users', '-n', namespace, '-o', 'json'])).items as Array<{
      metadata: { name: string; labels?: Record<string, string>; ownerReferences?: unknown[] };
      spec: { state: string };
    }>;
  const source = () => JSON.parse(kubectlOk(['get', 'idsrc', 'hr', '-n', namespace, '-o', 'json']));
  const condition = (type: string) => source().status?.conditions?.find((c: { type: string }) => c.type === type);

  beforeAll(async () => {
    namespace = createNamespace('sources');
    dbPath = join(mkdtempSync(join(tmpdir(), 'rollcall-sources-')), 'directory.db');
    rows = [
      person('E1', 'alice', 'Sales'),
      person('E2', 'bob', 'Sales'),
      person('E3', 'carol', 'Finance'),
      ...['dan', 'eve', 'fay', 'gus', 'hal'].map((n, i) => person(`E${i + 4}`, n, 'Sales')),
    ];
    feed();
    kubectlOk(['apply', '-f', '-'], manifests(namespace, dbPath));
    rollcall = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'rollcall.js'), 'run', '--kubeconfig', inject('kubeconfig'), '--namespace', namespace, '--no-leader-elect', '--log-level', 'warn'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    rollcall.stdout!.on('data', (c: Buffer) => logs.push(c.toString()));
    rollcall.stderr!.on('data', (c: Buffer) => logs.push(c.toString()));
  });

  afterAll(() => {
    if (rollcall && rollcall.exitCode === null) rollcall.kill('SIGKILL');
  });

  it('hires: Users created with the source label and owner, accounts provisioned by label', async () => {
    await until('eight accounts', () => (describeDirectory(dbPath).filter((r) => r.state === 'present').length === 8 ? true : undefined));
    const alice = users().find((u) => u.metadata.name === 'e1')!;
    expect(alice.metadata.labels).toMatchObject({ department: 'sales', 'rollcall.dev/source': 'hr', 'app.kubernetes.io/managed-by': 'rollcall' });
    expect(alice.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'IdentitySource', name: 'hr', controller: true })]);
    expect(account('carol')).toMatchObject({ state: 'present', groups: ['finance'] });
    const table = kubectlOk(['get', 'idsrc', '-n', namespace]);
    expect(table).toMatch(/NAME\s+TYPE\s+USERS\s+REJECTED\s+GUARD\s+READY\s+LAST-SYNC\s+AGE/);
    expect(table).toMatch(/hr\s+csv\s+8\s+0\s+False\s+True/);
  });

  it('a transfer moves the access; a termination disables the account', async () => {
    rows[1] = person('E2', 'bob', 'Finance');
    rows[2] = person('E3', 'carol', 'Finance', 'terminated');
    feed();
    await until('bob in finance', () => (account('bob')?.groups.join() === 'finance' ? true : undefined));
    await until('carol disabled', () => (account('carol')?.state === 'disabled' ? true : undefined));
    expect(users().find((u) => u.metadata.name === 'e3')!.spec.state).toBe('terminated');
  });

  it('a rehire reactivates the same User and account', async () => {
    rows[2] = person('E3', 'carol', 'Finance');
    feed();
    await until('carol back', () => (account('carol')?.state === 'present' ? true : undefined));
    expect(users().find((u) => u.metadata.name === 'e3')!.spec.state).toBe('active');
  });

  it('bad records are rejected and named in status; the rest proceed', async () => {
    rows.push('E90,broken', 'E91,zed,zed,Doe,not-an-email,Sales,active', person('E92', 'ivy', 'Sales'));
    feed();
    await until('ivy hired', () => (account('ivy')?.state === 'present' ? true : undefined));
    const status = await until('two rejections', () => (source().status?.rejected === 2 ? source().status : undefined));
    expect(status.rejectedRecords).toEqual(
      expect.arrayContaining([
        { record: expect.stringMatching(/^line \d+$/), reason: 'malformed row: 2 fields where the header has 7' },
        { record: expect.stringContaining('E91'), field: 'email', reason: expect.stringContaining('email') },
      ]),
    );
  });

  it('a truncated feed trips the change guard and terminates nobody; approving the count shown terminates them', async () => {
    rows = rows.slice(0, 3);
    feed();
    const guard = await until('the guard', () => (condition('ChangeGuardTripped')?.status === 'True' ? condition('ChangeGuardTripped') : undefined));
    expect(guard.message).toContain('would terminate or suspend 6 of 9 Users (limit 2)');
    await new Promise((resolve) => setTimeout(resolve, 3000)); // more syncs pass
    expect(users().filter((u) => u.spec.state !== 'active')).toEqual([]);
    expect(account('hal')).toMatchObject({ state: 'present' });
    kubectlOk(['annotate', 'idsrc', 'hr', '-n', namespace, 'rollcall.dev/approve-changes=6']);
    await until('hal disabled', () => (account('hal')?.state === 'disabled' ? true : undefined));
    expect(users().filter((u) => u.spec.state === 'terminated')).toHaveLength(6);
    expect(kubectlOk(['get', 'idsrc', 'hr', '-n', namespace, '-o', 'jsonpath={.metadata.annotations}'])).not.toContain('approve-changes');
  });
});
