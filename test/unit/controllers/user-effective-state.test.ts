// status.state, the STATE column of `kubectl get users`: the state in effect, not only the declared
// one. A contractor past validUntil is expired, a joiner before validFrom pending, a deleted User
// deleting; the controller rewrites it when the clock passes a date.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from '../../../src/clock/clock.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { effectiveState } from '../../../src/engine/index.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import type { User } from '../../../src/api/index.ts';
import { sqliteSystem, user, writeManifests } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const T0 = new Date('2026-11-26T09:00:00Z');

describe('status.state', () => {
  let dir = '';
  let store: MemoryStore;
  let manager: Manager;
  const clock = new TestClock(T0);
  const state = (name: string) => store.get('User', { namespace: 'acme', name })?.status?.state;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-state-'));
    writeManifests(dir, 'all.yaml', [
      sqliteSystem('directory', join(dir, 'directory.db')),
      user('ann'),
      user('cat', { validUntil: '2026-11-26T10:00:00Z' }),
      user('joe', { validFrom: '2026-11-26T11:00:00Z' }),
      user('sue', { state: 'suspended', validUntil: '2026-11-26T10:00:00Z' }),
    ]);
    ({ store } = storeFromManifests(dir));
    manager = new Manager({ store, logger: pino({ level: 'silent' }), clock });
    await manager.start();
    await manager.idle();
  });
  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('before any date: active, active (until 10:00), pending (from 11:00), suspended', () => {
    expect(['ann', 'cat', 'joe', 'sue'].map(state)).toEqual(['active', 'active', 'pending', 'suspended']);
  });

  it('past validUntil the contractor is expired; past validFrom the joiner is active; a declared leave stays what it is', async () => {
    clock.set(new Date('2026-11-26T11:00:00Z'));
    // No requeue by hand: the controller's own wake-ups at validUntil and validFrom rewrite the state.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await manager.idle();
    expect(['ann', 'cat', 'joe', 'sue'].map(state)).toEqual(['active', 'expired', 'active', 'suspended']);
  });

  it('a User being deleted is deleting', () => {
    const user = {
      metadata: { name: 'x', namespace: 'acme', deletionTimestamp: '2026-11-26T09:00:00Z' },
      spec: { userName: 'x', state: 'active' },
    } as unknown as User;
    expect(effectiveState(user, T0.getTime())).toBe('deleting');
  });
});
