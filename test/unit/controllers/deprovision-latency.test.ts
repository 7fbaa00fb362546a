// rollcall_deprovision_latency_seconds measures the time from a User losing access to its accounts
// being deprovisioned: with an injected clock, the sum is the time that passed since validUntil, not 0.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from '../../../src/clock/clock.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { Metrics } from '../../../src/process/metrics.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { accessBinding, accessRole, sqliteSystem, user, writeManifests } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const T0 = new Date('2026-11-26T09:00:00Z');

describe('deprovision latency', () => {
  let dir = '';
  let db = '';
  let store: MemoryStore;
  let manager: Manager;
  const metrics = new Metrics({ defaultMetrics: false });
  const clock = new TestClock(T0);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-latency-'));
    db = join(dir, 'directory.db');
    writeManifests(dir, 'all.yaml', [
      sqliteSystem('directory', db, { deprovision: { policy: 'disable' } }),
      accessRole('staff', { directory: ['all-staff'] }),
      accessBinding('staff', { users: ['cat'] }),
      user('cat', { validUntil: '2026-11-26T10:00:00Z' }),
    ]);
    ({ store } = storeFromManifests(dir));
    manager = new Manager({ store, logger: pino({ level: 'silent' }), metrics, clock });
    await manager.start();
    await manager.idle();
  });
  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a contractor seen 90 s after validUntil: count 1, sum 90', async () => {
    expect(describeDirectory(db).find((a) => a.userName === 'cat')).toMatchObject({ state: 'present' });
    clock.set(new Date('2026-11-26T10:01:30Z'));
    await manager.requeueAll();
    await manager.idle();
    expect(describeDirectory(db).find((a) => a.userName === 'cat')).toMatchObject({ state: 'disabled' });
    const text = await metrics.registry.getSingleMetricAsString('rollcall_deprovision_latency_seconds');
    expect(text).toMatch(/rollcall_deprovision_latency_seconds_count 1\b/);
    expect(text).toMatch(/rollcall_deprovision_latency_seconds_sum 90\b/);
  });
});
