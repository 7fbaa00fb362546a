// A User deleted from a disableThenDelete system: its account is disabled at once and the User goes
// (kubectl delete returns) once the system's status records the account as retained until a date;
// the system deletes it when the retention ends, so no disabled account is left behind as an
// orphan. A rehire within the retention takes the account back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { TestClock } from '../../../src/clock/clock.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { aliceDirectory } from '../../helpers/alice-directory.ts';
import { writeManifests } from '../../helpers/manifests.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const HOUR = 3_600_000;

describe('deleting a User in a disableThenDelete system', () => {
  let dir: string;
  let db: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const clock = new TestClock(new Date('2030-05-01T08:00:00Z'));
  const write = (withUser: boolean) =>
    writeManifests(dir, 'all.yaml', aliceDirectory({ path: db, system: { deprovision: { policy: 'disableThenDelete', retention: '24h' } }, withUser }));
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
    ({ store, directory } = storeFromManifests(dir, { logger, clock }));
    manager = new Manager({ store, logger, clock });
    await manager.start();
    await manager.idle();
  });

  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const system = () => store.get('ConnectedSystem', { namespace: 'acme', name: 'directory' });

  it('disables at once, lets the User go, keeps the account until the retention (in the system status), then deletes it', async () => {
    expect(describeDirectory(db)).toEqual([expect.objectContaining({ userName: 'alice', state: 'present', groups: ['staff'] })]);
    write(false); // kubectl delete user alice
    directory.reload();
    await settle();
    await settle();
    expect(describeDirectory(db)).toEqual([expect.objectContaining({ userName: 'alice', state: 'disabled', groups: [] })]);
    // Not held for the retention: the finalizer went once the system recorded the account.
    expect(alice()).toBeUndefined();
    const deleteAfter = new Date(clock.now().getTime() + 24 * HOUR).toISOString();
    expect(system()?.status?.retainedAccounts).toEqual([{ userName: 'alice', user: 'alice', deleteAfter }]);
    expect(system()?.status?.retained).toBe(1);
    expect(system()?.status?.orphaned).toBe(0);

    clock.advance(24 * HOUR - 1);
    await settle();
    expect(describeDirectory(db)).toHaveLength(1);
    expect(system()?.status?.retainedAccounts).toHaveLength(1);

    clock.advance(1); // the retention ends: the system's wake-up deletes the account and drops the record
    await settle();
    await settle();
    expect(describeDirectory(db)).toEqual([]);
    expect(system()?.status?.retainedAccounts).toBeUndefined();
    expect(system()?.status?.retained).toBeUndefined();
  });

  it('a rehire within the retention takes the disabled account back, and the system forgets the record', async () => {
    write(true);
    directory.reload();
    await settle();
    expect(describeDirectory(db)).toEqual([expect.objectContaining({ userName: 'alice', state: 'present', groups: ['staff'] })]);
    write(false);
    directory.reload();
    await settle();
    await settle();
    expect(alice()).toBeUndefined();
    expect(system()?.status?.retainedAccounts).toHaveLength(1);

    clock.advance(HOUR);
    write(true); // rehired an hour later, as the same userName
    directory.reload();
    await settle();
    await settle();
    expect(describeDirectory(db)).toEqual([expect.objectContaining({ userName: 'alice', state: 'present', groups: ['staff'] })]);
    clock.advance(24 * HOUR); // past the old retention: nothing is deleted
    await settle();
    await settle();
    expect(describeDirectory(db)).toEqual([expect.objectContaining({ userName: 'alice', state: 'present' })]);
    expect(system()?.status?.retainedAccounts).toBeUndefined();
  });
});
