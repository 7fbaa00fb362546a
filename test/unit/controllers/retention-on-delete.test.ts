// A User deleted from a disableThenDelete system: its account is disabled at once, and the User
// stays (Terminating, behind its finalizer) until the retention deletes the account — so no
// disabled account is left behind as an orphan.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { TestClock } from '../../../src/clock/clock.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { aliceDirectory } from '../../helpers/alice-directory.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';

const HOUR = 3_600_000;

describe('deleting a User in a disableThenDelete system', () => {
  let dir: string;
  let db: string;
  let store: MemoryStore;
  let manager: Manager;
  const clock = new TestClock(new Date('2030-05-01T08:00:00Z'));
  const write = (withUser: boolean) =>
    writeFileSync(join(dir, 'all.yaml'), aliceDirectory({ path: db, deprovision: '{policy: disableThenDelete, retention: 24h}', withUser }));
  const alice = () => store.get('User', { namespace: 'acme', name: 'alice' });
  const settle = async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    await manager.idle();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-retention-'));
    db = join(dir, 'directory.db');
    write(true);
    const logger = pino({ level: 'silent' });
    store = MemoryStore.fromDirectory(dir, { watch: false, logger, clock });
    manager = new Manager({ store, logger, clock });
    await manager.start();
    await manager.idle();
  });

  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('disables at once, keeps the User until the retention, then deletes the account and lets the User go', async () => {
    expect(describeDirectory(db)).toEqual([expect.objectContaining({ userName: 'alice', state: 'present', groups: ['staff'] })]);
    write(false); // kubectl delete user alice
    store.reload();
    await settle();
    expect(describeDirectory(db)).toEqual([expect.objectContaining({ userName: 'alice', state: 'disabled', groups: [] })]);
    expect(alice()?.metadata.deletionTimestamp).toBeDefined();
    expect(alice()?.metadata.finalizers).toContain('rollcall.dev/deprovision');

    clock.advance(24 * HOUR - 1);
    await settle();
    expect(alice()).toBeDefined();
    expect(describeDirectory(db)).toHaveLength(1);

    clock.advance(1); // the retention ends: the wake-up deletes the account, then the finalizer goes
    await settle();
    await settle();
    expect(describeDirectory(db)).toEqual([]);
    expect(alice()).toBeUndefined();
  });
});
