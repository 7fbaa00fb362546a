// Two `rollcall run` replicas with leader election on a Lease: one works, the other stands by and
// takes over within seconds when the leader is stopped with SIGTERM (which releases the Lease).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../servers/test-server.ts';
import { accessBinding, accessRole, manifestsYaml, sqliteSystem, user } from '../helpers/manifests.ts';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';
import { eventually } from '../helpers/eventually.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface Replica {
  process: ChildProcess;
  port: number;
}

async function isLeader(replica: Replica): Promise<boolean> {
  const text = await (await fetch(`http://127.0.0.1:${replica.port}/metrics`)).text();
  return /^rollcall_leader 1$/m.test(text);
}

describe('two replicas with leader election', () => {
  let namespace: string;
  const replicas: Replica[] = [];
  let leaderIndex = -1;
  const teamA = (name: string) => manifestsYaml([user({ name, namespace, labels: { team: 'a' } })]);

  beforeAll(async () => {
    namespace = createNamespace('replicas');
    const db = join(mkdtempSync(join(tmpdir(), 'rollcall-replicas-')), 'directory.db');
    kubectlOk(
      ['apply', '-f', '-'],
      manifestsYaml([
        sqliteSystem({ name: 'directory', namespace }, db),
        accessRole({ name: 'staff', namespace }, { directory: ['staff'] }),
        accessBinding({ name: 'staff', namespace }, { userSelector: { matchLabels: { team: 'a' } } }),
      ]),
    );
    kubectlOk(['apply', '-f', '-'], teamA('alice'));
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const child = spawn(
        process.execPath,
        [
          join(ROOT, 'bin', 'rollcall.js'),
          'run',
          '--kubeconfig',
          inject('kubeconfig'),
          '--namespace',
          namespace,
          '--lease-namespace',
          namespace,
          '--health-port',
          String(port),
          '--log-level',
          'warn',
        ],
        { stdio: 'ignore' },
      );
      replicas.push({ process: child, port });
    }
  });

  afterAll(() => {
    for (const replica of replicas) if (replica.process.exitCode === null) replica.process.kill('SIGKILL');
  });

  it('exactly one replica leads, and it does the work; both are ready', async () => {
    const result = kubectl(['wait', '--for=condition=Ready', 'user/alice', '-n', namespace, '--timeout=60s']);
    expect(result.code, result.stderr).toBe(0);
    const leaders = await eventually(
      async () => {
        const flags = await Promise.all(replicas.map(isLeader));
        expect(flags.filter(Boolean)).toHaveLength(1);
        return flags;
      },
      { timeoutMs: 30_000 },
    );
    for (const replica of replicas) expect((await fetch(`http://127.0.0.1:${replica.port}/readyz`)).status).toBe(200);
    expect(kubectlOk(['get', 'lease', 'rollcall-leader', '-n', namespace, '-o', 'jsonpath={.spec.holderIdentity}'])).not.toBe('');
    leaderIndex = leaders.indexOf(true);
  });

  it('when the leader gets SIGTERM it exits 0, and the standby takes over within seconds', async () => {
    const leader = replicas[leaderIndex]!;
    const standby = replicas[1 - leaderIndex]!;
    expect(await isLeader(leader)).toBe(true);
    const exited = new Promise<number | null>((resolve) => leader.process.once('exit', resolve));
    const stoppedAt = Date.now();
    leader.process.kill('SIGTERM');
    expect(await exited).toBe(0);
    await eventually(async () => expect(await isLeader(standby)).toBe(true), { timeoutMs: 20_000 });
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);

    kubectlOk(['apply', '-f', '-'], teamA('bob'));
    const result = kubectl(['wait', '--for=condition=Ready', 'user/bob', '-n', namespace, '--timeout=60s']);
    expect(result.code, result.stderr).toBe(0);
  });
});
