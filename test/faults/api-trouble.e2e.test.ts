// `rollcall run` when its path to the API server misbehaves (test/faults/api-proxy.ts between them),
// against a real PostgreSQL: watches that stop delivering while their connections stay open are
// noticed, re-listed and caught up within 30 s, a leaver made during the cut included; while
// nothing can be re-listed either, /healthz and /readyz fail and say why; once the path is back,
// everything missed is done. Credentials appear in no log line, status or Event.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminQuery, startPostgres, type PostgresServer } from '../servers/postgres.ts';
import { freePort } from '../servers/test-server.ts';
import { createNamespace, kubectlOk } from '../e2e/kube.ts';
import { startRollcall, type RollcallRun } from '../e2e/rollcall-run.ts';
import { eventually } from '../helpers/eventually.ts';
import { startApiProxy, type ApiProxy } from './api-proxy.ts';
import { clusterText, expectNoSecret } from './secrets.ts';
import { teamAPostgres, teamAUser } from './team-a-postgres.ts';

/** A short silence bound keeps the suite quick; the long variant runs with the default (20 s). */
const LONG = process.env.ROLLCALL_FAULTS_LONG === '1';
const SILENT_AFTER_S = LONG ? 20 : 5;
const COLLECTION = /\/(users|connectedsystems|accessroles|accessbindings|identitysources|accessreviews)$/;

/** Whether `name` may log in to PostgreSQL (false when it does not exist). */
async function canLogIn(postgres: PostgresServer, name: string): Promise<boolean> {
  const { rows } = await adminQuery(postgres, 'SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [name]);
  return rows[0]?.rolcanlogin === true;
}

async function probe(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

describe('rollcall run behind a misbehaving API-server path', () => {
  let namespace: string;
  let postgres: PostgresServer;
  let proxy: ApiProxy;
  let rollcall: RollcallRun;
  let port: number;

  beforeAll(async () => {
    namespace = createNamespace('faults-api');
    postgres = await startPostgres();
    await adminQuery(postgres, 'CREATE ROLE staff NOLOGIN');
    kubectlOk(['apply', '-f', '-'], teamAPostgres(namespace, postgres));
    for (const name of ['leaver', 'stays']) kubectlOk(['apply', '-f', '-'], teamAUser(namespace, name));
    proxy = await startApiProxy(inject('kubeconfig'), mkdtempSync(join(tmpdir(), 'rollcall-faults-api-')));
    port = await freePort();
    rollcall = startRollcall(namespace, [
      '--kubeconfig',
      proxy.kubeconfig,
      '--health-port',
      String(port),
      ...(LONG ? [] : ['--watch-silent-after', String(SILENT_AFTER_S)]),
      '--request-timeout',
      '3',
      '--log-level',
      'info',
    ]);
    await eventually(
      async () => {
        expect(await canLogIn(postgres, 'leaver')).toBe(true);
        expect(await canLogIn(postgres, 'stays')).toBe(true);
      },
      { timeoutMs: 90_000, logs: rollcall.output },
    );
    expect((await probe(port, '/healthz')).status).toBe(200);
  });

  afterAll(async () => {
    await rollcall?.stop();
    await proxy?.close();
    await postgres?.close();
  });

  it('watches frozen with their connections open: a leaver and a newcomer made meanwhile are handled within 30 s', async () => {
    proxy.freezeWatches();
    const cutAt = performance.now();
    kubectlOk(['apply', '-f', '-'], teamAUser(namespace, 'leaver', 'terminated'));
    kubectlOk(['apply', '-f', '-'], teamAUser(namespace, 'newcomer'));
    await eventually(
      async () => {
        expect(await canLogIn(postgres, 'leaver')).toBe(false);
        expect(await canLogIn(postgres, 'newcomer')).toBe(true);
      },
      { timeoutMs: 30_000, intervalMs: 200, logs: rollcall.output },
    );
    const caughtUpMs = performance.now() - cutAt;
    // The re-lists kept the caches current: the process stayed healthy throughout.
    expect((await probe(port, '/healthz')).status).toBe(200);
    expect(rollcall.output()).toMatch(/"reason":"no watch event and no listing for \d+s","retryInMs":\d+,"msg":"restarting the watch"/);
    proxy.thawWatches();
    console.log(
      `[figures] frozen watches: leaver cut off and newcomer provisioned ${Math.round(caughtUpMs)} ms after the cut (--watch-silent-after ${SILENT_AFTER_S})`,
    );
  }, 60_000);

  it('watches frozen and every listing hanging: /healthz and /readyz fail and say why; when the path is back all is caught up', async () => {
    proxy.freezeWatches();
    proxy.hang((method, url) => method === 'GET' && COLLECTION.test(url.pathname) && url.searchParams.get('watch') === null);
    const cutAt = performance.now();
    kubectlOk(['delete', 'user', 'stays', '-n', namespace, '--wait=false']);
    const unhealthy = await eventually(
      async () => {
        const health = await probe(port, '/healthz');
        expect(health.status).toBe(503);
        expect(health.body).toMatch(
          /watch of User: no watch event and no successful listing for \d+s \(last failure: the API server did not answer list\w+ within 3s\)/,
        );
        return health.body;
      },
      { timeoutMs: 4 * SILENT_AFTER_S * 1000 + 20_000, intervalMs: 500, logs: rollcall.output },
    );
    const detectedMs = performance.now() - cutAt;
    const ready = await probe(port, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('watch of User');

    proxy.stopHanging();
    proxy.thawWatches();
    const backAt = performance.now();
    await eventually(
      async () => {
        expect(await canLogIn(postgres, 'stays')).toBe(false);
        expect((await probe(port, '/healthz')).status).toBe(200);
      },
      { timeoutMs: 30_000, intervalMs: 200, logs: rollcall.output },
    );
    const recoveredMs = performance.now() - backAt;
    expect(proxy.counts().held).toBeGreaterThan(0);
    console.log(
      `[figures] dead watch: /healthz failed ${Math.round(detectedMs)} ms after the cut (bound 2 x ${SILENT_AFTER_S}s + request timeout 3s) with: ${unhealthy.trim().split('\n')[1]?.trim()}; the deletion made during the cut was done and /healthz was 200 ${Math.round(recoveredMs)} ms after the path came back; ${proxy.counts().held} requests held`,
    );
  }, 240_000);

  it('no credential appears in a log line, a status or an Event', () => {
    expectNoSecret([postgres.adminPassword], { 'rollcall output': rollcall.output(), 'statuses and Events': clusterText(namespace) });
  });
});
