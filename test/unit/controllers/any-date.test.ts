// The controllers obey the injected clock and nothing else: run years before and years after the
// wall-clock date, a wake-up is neither fired early (a spin) nor lost; time-boxed access ends when
// the injected clock says so, without any requeue by the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { Metrics } from '../../../src/process/metrics.ts';
import { accessBinding, accessRole, sqliteSystem, user, writeManifests, type Manifest } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const HOUR = 3_600_000;

function manifests(db: string, start: Date): Manifest[] {
  const at = (ms: number) => new Date(start.getTime() + ms).toISOString();
  return [
    sqliteSystem('directory', db, { deprovision: { policy: 'disable' } }),
    accessRole('on-call', { directory: ['prod-admins'] }),
    accessRole('staff', { directory: ['staff'] }),
    accessBinding('staff', { users: ['dana', 'carl'] }),
    accessBinding('dana-on-call', { role: 'on-call', users: ['dana'], validUntil: at(HOUR) }),
    user('dana'),
    user('carl', { employeeType: 'contractor', validUntil: at(2 * HOUR) }),
  ];
}

const reconciles = async (metrics: Metrics) => {
  const metric = await metrics.reconcileTotal.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
};
const realPause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([
  ['years in the past', '2009-03-01T10:00:00Z'],
  ['years in the future', '2041-07-15T10:00:00Z'],
])('controllers on an injected clock %s', (_label, startIso) => {
  let dir: string;
  let manager: Manager | undefined;

  afterEach(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits for each instant on that clock: no spin before it, no lost wake-up at it', async () => {
    const start = new Date(startIso);
    dir = mkdtempSync(join(tmpdir(), 'rollcall-any-date-'));
    const db = join(dir, 'directory.db');
    writeManifests(dir, 'all.yaml', manifests(db, start));
    const clock = new TestClock(start);
    const metrics = new Metrics({ defaultMetrics: false });
    const logger = pino({ level: 'silent' });
    const { store } = storeFromManifests(dir, { logger, clock });
    manager = new Manager({ store, logger, metrics, clock });
    await manager.start();
    await manager.idle();
    const row = (name: string) => describeDirectory(db).find((r) => r.userName === name);
    expect(row('dana')).toMatchObject({ state: 'present', groups: ['prod-admins', 'staff'] });
    expect(row('carl')).toMatchObject({ state: 'present', groups: ['staff'] });

    // Idle means idle: a wake-up an hour ahead on the injected clock does not fire in real time.
    const before = await reconciles(metrics);
    await realPause(300);
    await manager.idle();
    expect(await reconciles(metrics)).toBe(before);

    clock.advance(HOUR - 1);
    await realPause(20);
    await manager.idle();
    expect(row('dana')?.groups).toEqual(['prod-admins', 'staff']);

    clock.advance(1); // validUntil of the on-call binding: the wake-up fires by itself
    await realPause(20);
    await manager.idle();
    expect(row('dana')).toMatchObject({ state: 'present', groups: ['staff'] });
    expect(row('carl')?.state).toBe('present');

    clock.advance(HOUR); // the contractor's own validUntil
    await realPause(20);
    await manager.idle();
    expect(row('carl')).toMatchObject({ state: 'disabled', groups: [] });
    const carl = store.get('User', { namespace: 'acme', name: 'carl' })!;
    expect(carl.status?.deprovisionStartedAt).toBe(new Date(start.getTime() + 2 * HOUR).toISOString());
    expect(carl.status?.conditions?.find((c) => c.type === 'Expired')).toMatchObject({ status: 'True' });
  });
});
