// `rollcall run` out of cluster against the real API server, with the embedded sqlite system:
// kubectl wait sees Users become Ready, a second writer's conflicts are survived, a leaver is cut off.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { describeDirectory } from '../../src/connectors/sqlite/directory.ts';
import { freePort } from '../servers/test-server.ts';
import { accessBinding, accessRole, manifestsYaml, sqliteSystem, user } from '../helpers/manifests.ts';
import { createNamespace, eventsOn, kubectl, kubectlAsync, kubectlOk } from './kube.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function manifests(namespace: string, dbPath: string): string {
  const engineer = (name: string) =>
    user({ name, namespace, labels: { department: 'engineering' } }, { givenName: name, familyName: 'Test', title: 'Engineer', department: 'engineering' });
  return manifestsYaml([
    sqliteSystem({ name: 'directory', namespace }, dbPath, { deprovision: { policy: 'disable' }, resyncInterval: '10s' }),
    accessRole({ name: 'engineer', namespace }, { directory: ['engineering', 'vpn-users'] }),
    accessBinding({ name: 'engineering', namespace }, { role: 'engineer', userSelector: { matchLabels: { department: 'engineering' } } }),
    engineer('alice'),
    engineer('bob'),
  ]);
}

function account(dbPath: string, userName: string) {
  return describeDirectory(dbPath).find((row) => row.userName === userName);
}

describe('rollcall run against the real API server', () => {
  let namespace: string;
  let dbPath: string;
  let rollcall: ChildProcess;
  let healthPort: number;
  const logs: string[] = [];

  beforeAll(async () => {
    namespace = createNamespace('run');
    dbPath = join(mkdtempSync(join(tmpdir(), 'rollcall-run-')), 'directory.db');
    kubectlOk(['apply', '-f', '-'], manifests(namespace, dbPath));
    healthPort = await freePort();
    rollcall = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'rollcall.js'),
        'run',
        '--kubeconfig',
        inject('kubeconfig'),
        '--namespace',
        namespace,
        '--no-leader-elect',
        '--log-level',
        'warn',
        '--health-port',
        String(healthPort),
        '--metrics-system-labels',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    rollcall.stdout!.on('data', (c: Buffer) => logs.push(c.toString()));
    rollcall.stderr!.on('data', (c: Buffer) => logs.push(c.toString()));
  });

  afterAll(async () => {
    if (rollcall && rollcall.exitCode === null) {
      rollcall.kill('SIGKILL');
    }
  });

  it('kubectl wait --for=condition=Ready succeeds, and the account exists with its groups', () => {
    const result = kubectl(['wait', '--for=condition=Ready', 'user/alice', 'user/bob', '-n', namespace, '--timeout=90s']);
    expect(result.code, result.stderr + logs.join('')).toBe(0);
    expect(account(dbPath, 'alice')).toMatchObject({ state: 'present', groups: ['engineering', 'vpn-users'] });
    const out = kubectlOk(['get', 'users', '-n', namespace]);
    expect(out).toMatch(/alice\s+active\s+True\s+1\/1/);
    const status = JSON.parse(kubectlOk(['get', 'user', 'alice', '-n', namespace, '-o', 'json'])).status;
    expect(status.accounts[0]).toMatchObject({ system: 'directory', state: 'present', entitlements: ['engineering', 'vpn-users'] });
    expect(kubectlOk(['get', 'user', 'alice', '-n', namespace, '-o', 'jsonpath={.metadata.finalizers}'])).toContain('rollcall.dev/deprovision');
  });

  it('serves /healthz, /readyz and Prometheus metrics with what it did', async () => {
    const get = (path: string) => fetch(`http://127.0.0.1:${healthPort}${path}`);
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/controller_runtime_reconcile_total\{controller="user",result="success"\} [1-9]/);
    expect(metrics).toMatch(/workqueue_adds_total\{name="user"\} [1-9]/);
    expect(metrics).toMatch(new RegExp(`rollcall_connector_operations_total\\{system="${namespace}/directory",op="create",result="success"\\} 2`));
    expect(metrics).toMatch(new RegExp(`rollcall_accounts\\{system="${namespace}/directory",state="present"\\} [0-9]`));
  });

  it("records Kubernetes Events for what it changed: a joiner's on the system, none on the User", () => {
    const on = (name: string) =>
      eventsOn(namespace, name)
        .map((e) => `${e.reason} ${e.message}`)
        .join('\n');
    // One Event per account, named after its strongest change, listing them all.
    expect(on('directory')).toMatch(/^AccountCreated User alice: create account.*, grant engineering, grant vpn-users$/m);
    expect(on('alice')).toBe('');
  });

  it('survives a second writer causing conflicts, and converges on the last spec', async () => {
    // Another writer keeps changing alice (annotations and spec) while Rollcall writes her status.
    const writes = [];
    for (let i = 0; i < 15; i++) {
      writes.push(kubectlAsync(['annotate', 'user', 'alice', '-n', namespace, `touched=${i}`, '--overwrite']));
      writes.push(kubectlAsync(['patch', 'user', 'alice', '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec: { title: `Engineer ${i}` } })]));
      await Promise.all(writes.splice(0));
    }
    const generation = kubectlOk(['get', 'user', 'alice', '-n', namespace, '-o', 'jsonpath={.metadata.generation}']);
    const result = kubectl(['wait', `--for=jsonpath={.status.observedGeneration}=${generation}`, 'user/alice', '-n', namespace, '--timeout=60s']);
    expect(result.code, result.stderr + logs.join('')).toBe(0);
    expect(kubectlOk(['get', 'user', 'alice', '-n', namespace, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).toBe('True');
    expect(rollcall.exitCode).toBeNull();
  });

  it('cuts off a leaver: terminated means disabled, with no groups left', async () => {
    kubectlOk(['patch', 'user', 'bob', '-n', namespace, '--type=merge', '-p', '{"spec":{"state":"terminated"}}']);
    const deadline = Date.now() + 30_000;
    // Cut off first (disabled), then the revokes: wait for both.
    const done = () => account(dbPath, 'bob')?.state === 'disabled' && account(dbPath, 'bob')?.groups.length === 0;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(account(dbPath, 'bob')).toMatchObject({ state: 'disabled', groups: [] });
    expect(account(dbPath, 'alice')?.state).toBe('present');
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => rollcall.once('exit', (code) => resolve(code)));
    rollcall.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
