import { afterEach, describe, expect, it } from 'vitest';
import { startHealthServer, type HealthServer } from '../../../src/process/health.ts';
import { Metrics } from '../../../src/process/metrics.ts';

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function get(path: string): Promise<{ status: number; body: string; contentType: string | null }> {
  const response = await fetch(`http://127.0.0.1:${server!.port}${path}`);
  return { status: response.status, body: await response.text(), contentType: response.headers.get('content-type') };
}

describe('startHealthServer', () => {
  it('answers /healthz, and /readyz according to isReady', async () => {
    let ready = false;
    server = await startHealthServer({ port: 0, host: '127.0.0.1', metrics: new Metrics({ defaultMetrics: false }), isReady: () => ready });
    expect(server.port).toBeGreaterThan(0);
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(503);
    ready = true;
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/nope')).status).toBe(404);
  });

  it('fails /healthz and /readyz, saying why, while a watch is dead', async () => {
    let problems: string[] = [];
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      metrics: new Metrics({ defaultMetrics: false }),
      isReady: () => true,
      problems: () => problems,
    });
    expect((await get('/healthz')).status).toBe(200);
    problems = ['watch of User: no watch event and no successful listing for 41s'];
    for (const path of ['/healthz', '/readyz']) {
      const { status, body } = await get(path);
      expect(status).toBe(503);
      expect(body).toContain('watch of User: no watch event and no successful listing for 41s');
    }
    problems = [];
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
  });

  it('serves every Rollcall and controller-runtime metric name on /metrics', async () => {
    const metrics = new Metrics();
    metrics.reconcileTotal.inc({ controller: 'user', result: 'success' });
    metrics.connectorOperations.inc({ system: 'corp-ldap', op: 'create', result: 'success' });
    metrics.accounts.set({ system: 'corp-ldap', state: 'present' }, 12);
    metrics.deprovisionLatency.observe(4.2);
    metrics.leader.set(1);
    server = await startHealthServer({ port: 0, host: '127.0.0.1', metrics, isReady: () => true });
    const { status, body, contentType } = await get('/metrics');
    expect(status).toBe(200);
    expect(contentType).toContain('text/plain');
    for (const name of [
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds',
      'controller_runtime_active_workers',
      'controller_runtime_max_concurrent_reconciles',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_retries_total',
      'workqueue_queue_duration_seconds',
      'workqueue_work_duration_seconds',
      'rollcall_connector_operations_total',
      'rollcall_accounts',
      'rollcall_drift_corrections_total',
      'rollcall_orphans',
      'rollcall_deprovision_latency_seconds',
      'rollcall_deletion_guard_tripped_total',
      'rollcall_leader',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(body, name).toContain(`# TYPE ${name} `);
    }
    expect(body).toContain('controller_runtime_reconcile_total{controller="user",result="success"} 1');
    expect(body).toContain('rollcall_accounts{system="all",state="present"} 12');
    expect(body).toContain('rollcall_deprovision_latency_seconds_bucket{le="0.1"} 0');
    expect(body).toContain('rollcall_deprovision_latency_seconds_bucket{le="3600"} 1');
    expect(body).toContain('rollcall_leader 1');
  });

  it('names no tenant on the unauthenticated /metrics by default: per-system metrics are summed under system="all"', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const record = (m: Metrics) => {
      m.connectorOperations.inc({ system: 'team-a/payroll-db', op: 'create', result: 'success' });
      m.connectorOperations.inc({ system: 'team-b/secret-project', op: 'create', result: 'success' });
      m.accounts.set({ system: 'team-a/payroll-db', state: 'present' }, 3);
      m.accounts.set({ system: 'team-b/secret-project', state: 'present' }, 4);
      m.accounts.set({ system: 'team-a/payroll-db', state: 'present' }, 5); // replaces team-a's share only
      m.orphans.set({ system: 'team-b/secret-project' }, 2);
      m.driftCorrections.inc({ system: 'team-a/payroll-db' });
      m.deletionGuardTripped.inc({ system: 'team-b/secret-project' });
    };
    record(metrics);
    server = await startHealthServer({ port: 0, host: '127.0.0.1', metrics, isReady: () => true });
    const { body } = await get('/metrics');
    for (const name of ['team-a', 'team-b', 'payroll-db', 'secret-project']) expect(body).not.toContain(name);
    expect(body).toContain('rollcall_connector_operations_total{system="all",op="create",result="success"} 2');
    expect(body).toContain('rollcall_accounts{system="all",state="present"} 9');
    expect(body).toContain('rollcall_orphans{system="all"} 2');
    expect(body).toContain('rollcall_drift_corrections_total{system="all"} 1');
    expect(body).toContain('rollcall_deletion_guard_tripped_total{system="all"} 1');

    const detailed = new Metrics({ defaultMetrics: false, systemLabels: true });
    record(detailed);
    const text = await detailed.text();
    expect(text).toContain('rollcall_accounts{system="team-a/payroll-db",state="present"} 5');
    expect(text).toContain('rollcall_accounts{system="team-b/secret-project",state="present"} 4');
    expect(text).toContain('rollcall_connector_operations_total{system="team-b/secret-project",op="create",result="success"} 1');
  });

  it('keeps separate registries per Metrics instance', async () => {
    const a = new Metrics({ defaultMetrics: false, systemLabels: true });
    const b = new Metrics({ defaultMetrics: false, systemLabels: true });
    a.driftCorrections.inc({ system: 'pg' });
    expect(await a.text()).toContain('rollcall_drift_corrections_total{system="pg"} 1');
    expect(await b.text()).not.toContain('system="pg"');
  });

  it('frees its port on close', async () => {
    server = await startHealthServer({ port: 0, host: '127.0.0.1', metrics: new Metrics({ defaultMetrics: false }), isReady: () => true });
    const { port } = server;
    await server.close();
    server = undefined;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
