// Leader failover with two `rollcall run` replicas on one Lease, against the real API server and a
// real PostgreSQL: the leader is killed with SIGKILL in the middle of provisioning a few hundred
// Users (no chance to release the Lease); the standby takes over once the Lease expires and
// finishes, and nothing is done twice: one role per User, at most one audited create per account.
// And a replica whose controllers fail to start (its SCIM port is taken) releases the Lease and
// exits 1 instead of renewing it idle: the standby takes over at once, not after expiry.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminQuery, startPostgres, type PostgresServer } from '../servers/postgres.ts';
import { freePort } from '../servers/test-server.ts';
import { createNamespace, kubectlOk } from '../e2e/kube.ts';
import { startRollcall, type RollcallRun } from '../e2e/rollcall-run.ts';
import { eventually } from '../helpers/eventually.ts';
import { clusterText, expectNoSecret } from './secrets.ts';
import { teamAPostgres } from './team-a-postgres.ts';

const USERS = process.env.ROLLCALL_FAULTS_LONG === '1' ? 1000 : 300;
/** The elector's default lease duration (src/process/leader-election.ts). */
const LEASE_MS = 15_000;

interface Replica {
  rollcall: RollcallRun;
  port: number;
}

async function startReplica(namespace: string, extra: string[] = []): Promise<Replica> {
  const port = await freePort();
  const rollcall = startRollcall(namespace, ['--lease-namespace', namespace, '--health-port', String(port), '--log-level', 'info', ...extra], {
    leaderElect: true,
  });
  return { rollcall, port };
}

async function leads(replica: Replica): Promise<boolean> {
  const text = await (await fetch(`http://127.0.0.1:${replica.port}/metrics`)).text();
  return /^rollcall_leader 1$/m.test(text);
}

function exited(replica: Replica): Promise<number | null> {
  const child = replica.rollcall.child;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** The JSON log records of a replica's output (stderr and stdout together). */
function records(replica: Replica): Array<Record<string, unknown>> {
  return replica.rollcall
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

function userList(namespace: string, prefix: string, count: number): string {
  const items = Array.from({ length: count }, (_, i) => ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'User',
    metadata: { name: `${prefix}${i}`, namespace, labels: { team: 'a' } },
    spec: { userName: `${prefix}${i}` },
  }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/** Roles in the system's managed scope (members of its marker role) whose name starts with `prefix`. */
async function managedRoles(postgres: PostgresServer, namespace: string, prefix: string): Promise<string[]> {
  const { rows } = await adminQuery(
    postgres,
    `SELECT r.rolname FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles marker ON marker.oid = m.roleid
     WHERE marker.rolname = $1 AND r.rolname LIKE $2`,
    [`rollcall:${namespace}/db`, `${prefix}%`],
  );
  return rows.map((row: { rolname: string }) => row.rolname);
}

describe('leader failover', () => {
  let postgres: PostgresServer;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    postgres = await startPostgres();
    await adminQuery(postgres, 'CREATE ROLE staff NOLOGIN');
  });

  afterAll(async () => {
    for (const replica of replicas) await replica.rollcall.stop();
    await postgres?.close();
  });

  it(`a leader killed with SIGKILL mid-sync of ${USERS} Users: the standby takes over within the lease and finishes, nothing done twice`, async () => {
    const namespace = createNamespace('faults-failover');
    kubectlOk(['apply', '-f', '-'], teamAPostgres(namespace, postgres));
    const pair = [await startReplica(namespace), await startReplica(namespace)];
    replicas.push(...pair);
    const leader = await eventually(
      async () => {
        const flags = await Promise.all(pair.map(leads));
        expect(flags.filter(Boolean)).toHaveLength(1);
        return pair[flags.indexOf(true)]!;
      },
      { timeoutMs: 60_000 },
    );
    const standby = pair.find((r) => r !== leader)!;

    kubectlOk(['apply', '-f', '-'], userList(namespace, 'u', USERS));
    // Kill as soon as the leader is visibly at work, well before it is done.
    const atKill = await eventually(
      async () => {
        const made = (await managedRoles(postgres, namespace, 'u')).length;
        expect(made).toBeGreaterThanOrEqual(10);
        return made;
      },
      { timeoutMs: 120_000, intervalMs: 50, logs: leader.rollcall.output },
    );
    leader.rollcall.child.kill('SIGKILL');
    const killedAt = performance.now();
    await exited(leader);
    expect(atKill, 'the kill landed mid-sync').toBeLessThan(USERS);

    await eventually(async () => expect(await leads(standby)).toBe(true), { timeoutMs: 60_000, intervalMs: 200 });
    const takeoverMs = performance.now() - killedAt;
    // The Lease was not released (SIGKILL): the standby waits for it to expire, and no longer than
    // that plus one retry period and the renew deadline's slack.
    expect(takeoverMs).toBeLessThan(LEASE_MS + 15_000);

    await eventually(async () => expect((await managedRoles(postgres, namespace, 'u')).length).toBe(USERS), {
      timeoutMs: 240_000,
      intervalMs: 500,
      logs: standby.rollcall.output,
    });
    const finishedMs = performance.now() - killedAt;
    await eventually(
      () => {
        const users = JSON.parse(kubectlOk(['get', 'users', '-n', namespace, '-o', 'json'])) as {
          items: Array<{
            metadata: { name: string };
            status?: { accounts?: Array<{ system: string; state: string }>; conditions?: Array<{ type: string; status: string }> };
          }>;
        };
        const notReady = users.items.filter((u) => u.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True');
        expect(notReady.map((u) => u.metadata.name)).toEqual([]);
        // One account per User in the one system: no duplicate from the two leaders.
        for (const user of users.items)
          expect(
            user.status?.accounts?.filter((a) => a.system === 'db'),
            user.metadata.name,
          ).toHaveLength(1);
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );

    // Every role is a member of staff exactly once (PostgreSQL would refuse a second GRANT anyway).
    const { rows: granted } = await adminQuery(
      postgres,
      `SELECT count(*)::int AS n FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE g.rolname = 'staff' AND r.rolname LIKE 'u%'`,
    );
    expect(granted[0].n).toBe(USERS);

    // The audit trail of both replicas together: no account created twice; the standby created only
    // what the killed leader had not (a create the leader made without logging it, just before the
    // kill, is found existing by the standby and not created again).
    const creates = [...records(leader), ...records(standby)].filter((r) => r.audit === true && r.op === 'create').map((r) => r.userName as string);
    const twice = creates.filter((name, i) => creates.indexOf(name) !== i);
    expect(twice).toEqual([]);
    expect(creates.length).toBeGreaterThan(USERS - 20);
    expect(creates.length).toBeLessThanOrEqual(USERS);
    const standbyCreates = records(standby).filter((r) => r.audit === true && r.op === 'create').length;
    expect(standbyCreates).toBeLessThanOrEqual(USERS - atKill);
    expect(records(standby).some((r) => typeof r.msg === 'string' && /already exists/.test(r.msg))).toBe(false);

    expectNoSecret([postgres.adminPassword], {
      "the killed leader's output": leader.rollcall.output(),
      "the new leader's output": standby.rollcall.output(),
      'statuses and Events': clusterText(namespace),
    });
    console.log(
      `[figures] failover: killed at ${atKill}/${USERS} roles; standby led ${Math.round(takeoverMs)} ms after the SIGKILL (lease ${LEASE_MS} ms); all ${USERS} done ${Math.round(finishedMs)} ms after it; audited creates: ${creates.length} (leader ${creates.length - standbyCreates}, standby ${standbyCreates}), none twice`,
    );
    await standby.rollcall.stop();
  }, 600_000);

  it('a replica whose controllers fail to start releases the Lease and exits 1; the standby leads at once', async () => {
    const namespace = createNamespace('faults-badstart');
    kubectlOk(['apply', '-f', '-'], teamAPostgres(namespace, postgres));
    // Its SCIM port is taken: the start fails the same way every time.
    const taken: Server = createServer();
    const takenPort = await freePort();
    await new Promise<void>((resolve) => taken.listen(takenPort, '0.0.0.0', resolve));
    try {
      const broken = await startReplica(namespace, ['--scim-port', String(takenPort)]);
      replicas.push(broken);
      // The broken replica leads first (it is alone), then the healthy one stands by beside it.
      await eventually(() => expect(kubectlOk(['get', 'lease', 'rollcall-leader', '-n', namespace, '-o', 'jsonpath={.spec.holderIdentity}'])).not.toBe(''), {
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      const healthy = await startReplica(namespace);
      replicas.push(healthy);
      kubectlOk(['apply', '-f', '-'], userList(namespace, 'b', 3));
      const code = await Promise.race([exited(broken), new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 60_000))]);
      const exitedAt = performance.now();
      expect(code, broken.rollcall.output().slice(-3000)).toBe(1);
      expect(broken.rollcall.output()).toContain('the controllers failed to start; released the lease and exiting');
      expect(broken.rollcall.output()).toContain('released the lease');
      await eventually(async () => expect(await leads(healthy)).toBe(true), { timeoutMs: 30_000, intervalMs: 200 });
      const takeoverMs = performance.now() - exitedAt;
      // At once: the Lease is free, not held until it expires (the broken replica had just renewed it).
      expect(takeoverMs).toBeLessThan(LEASE_MS);
      await eventually(async () => expect((await managedRoles(postgres, namespace, 'b')).sort()).toEqual(['b0', 'b1', 'b2']), { timeoutMs: 60_000 });
      expectNoSecret([postgres.adminPassword], {
        "the failed replica's output": broken.rollcall.output(),
        "the new leader's output": healthy.rollcall.output(),
        'statuses and Events': clusterText(namespace),
      });
      console.log(
        `[figures] failed start: exit code ${code}; the next replica led ${Math.round(takeoverMs)} ms after the failed one exited (start-up included; lease ${LEASE_MS} ms)`,
      );
      await healthy.rollcall.stop();
    } finally {
      taken.close();
    }
  }, 180_000);
});
