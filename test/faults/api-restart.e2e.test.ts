// `rollcall run` while its API server restarts (stopped, then started again on the same port and
// data): a control plane of its own, so the shared one of the e2e run is not disturbed. Rollcall
// authenticates with a static token and skips the serving certificate check, because the test
// control plane issues new certificates at every start. Changes made as soon as the API server is
// back (a leaver, a newcomer) are done within 30 s; nothing is missed; no credential leaks.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildControlPlane, startControlPlane, type ControlPlane } from '../servers/controlplane.ts';
import { adminQuery, startPostgres, type PostgresServer } from '../servers/postgres.ts';
import { freePort } from '../servers/test-server.ts';
import { startRollcall, type RollcallRun } from '../e2e/rollcall-run.ts';
import { eventually } from '../helpers/eventually.ts';
import { expectNoSecret } from './secrets.ts';
import { teamAPostgres, teamAUser } from './team-a-postgres.ts';

const CRDS = join(import.meta.dirname, '..', '..', 'crds');
const NAMESPACE = 'default';

async function canLogIn(postgres: PostgresServer, name: string): Promise<boolean> {
  const { rows } = await adminQuery(postgres, 'SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [name]);
  return rows[0]?.rolcanlogin === true;
}

describe('rollcall run across an API-server restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-faults-restart-'));
  const token = randomBytes(24).toString('base64url');
  const binary = buildControlPlane().controlPlane;
  let port: number;
  let controlPlane: ControlPlane;
  let postgres: PostgresServer;
  let rollcall: RollcallRun;
  let healthPort: number;

  const start = async () => (controlPlane = await startControlPlane(binary, { dir, port, apiServerArgs: [`--token-auth-file=${join(dir, 'tokens.csv')}`] }));
  const kubectl = (args: string[], input?: string): string => {
    const result = spawnSync('kubectl', args, { input, encoding: 'utf8', env: { ...process.env, KUBECONFIG: controlPlane.kubeconfig }, timeout: 120_000 });
    if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  };

  beforeAll(async () => {
    port = await freePort();
    writeFileSync(join(dir, 'tokens.csv'), `${token},rollcall-faults,rollcall-faults,"system:masters"\n`);
    await start();
    kubectl(['apply', '-f', CRDS]);
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=rollcall']);
    postgres = await startPostgres();
    await adminQuery(postgres, 'CREATE ROLE staff NOLOGIN');
    kubectl(['apply', '-f', '-'], teamAPostgres(NAMESPACE, postgres));
    for (const name of ['leaver', 'stays']) kubectl(['apply', '-f', '-'], teamAUser(NAMESPACE, name));
    const rollcallKubeconfig = join(dir, 'rollcall-kubeconfig');
    writeFileSync(
      rollcallKubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: restarted, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: rollcall, user: {token: "${token}"}}]
contexts: [{name: restarted, context: {cluster: restarted, user: rollcall}}]
current-context: restarted
`,
    );
    healthPort = await freePort();
    rollcall = startRollcall(NAMESPACE, ['--kubeconfig', rollcallKubeconfig, '--health-port', String(healthPort), '--log-level', 'info']);
    await eventually(
      async () => {
        expect(await canLogIn(postgres, 'leaver')).toBe(true);
        expect(await canLogIn(postgres, 'stays')).toBe(true);
      },
      { timeoutMs: 90_000, logs: rollcall.output },
    );
  }, 300_000);

  afterAll(async () => {
    await rollcall?.stop();
    await postgres?.close();
    await controlPlane?.stop();
  });

  it('changes made as soon as the API server is back are done within 30 s, with the default watchdog', async () => {
    const stoppedAt = performance.now();
    await controlPlane.stop();
    await start();
    const backAt = performance.now();
    kubectl(['apply', '-f', '-'], teamAUser(NAMESPACE, 'leaver', 'terminated'));
    kubectl(['apply', '-f', '-'], teamAUser(NAMESPACE, 'newcomer'));
    await eventually(
      async () => {
        expect(await canLogIn(postgres, 'leaver')).toBe(false);
        expect(await canLogIn(postgres, 'newcomer')).toBe(true);
        expect(await canLogIn(postgres, 'stays')).toBe(true);
      },
      { timeoutMs: 30_000, intervalMs: 200, logs: rollcall.output },
    );
    const caughtUpMs = performance.now() - backAt;
    expect((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status).toBe(200);
    expect(rollcall.child.exitCode).toBeNull();
    console.log(
      `[figures] API-server restart: down ${Math.round(backAt - stoppedAt)} ms (stop and start); a leaver and a newcomer made right after were done ${Math.round(caughtUpMs)} ms after it was back`,
    );
  }, 300_000);

  it('no credential (the database password, the API token) appears in a log line, a status or an Event', () => {
    const cluster = [
      kubectl(['get', 'users,connectedsystems,accessroles,accessbindings', '-n', NAMESPACE, '-o', 'json']),
      kubectl(['get', 'events', '-n', NAMESPACE, '-o', 'json']),
    ].join('\n');
    expectNoSecret([postgres.adminPassword, token], { 'rollcall output': rollcall.output(), 'statuses and Events': cluster });
  });
});
