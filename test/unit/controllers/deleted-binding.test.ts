// An AccessBinding removed (a file deleted under `rollcall run --manifests`, or `kubectl delete` in a
// cluster) arrives at the watch exactly as it was last seen: no new generation, no deletionTimestamp.
// Its Users must still be reconciled at once, not at the next resync (which the frozen clock never
// reaches here): the revoke lands in the real sqlite file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '../../../src/clock/clock.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { accessBinding, accessRole, sqliteSystem, user, writeManifests } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const logger = pino({ level: 'silent' });

describe('a deleted AccessBinding', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-deleted-binding-'));
  let manager: Manager | undefined;
  afterEach(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('revokes what it granted right away', async () => {
    const db = join(dir, 'directory.db');
    const docs = (withOnCall: boolean) => [
      sqliteSystem('directory', db, { resyncInterval: '1h' }),
      accessRole('staff', { directory: ['staff'] }),
      accessRole('on-call', { directory: ['prod-admins'] }),
      accessBinding('staff', { users: ['alice'] }),
      ...(withOnCall ? [accessBinding('on-call', { users: ['alice'] })] : []),
      user('alice'),
    ];
    writeManifests(dir, 'company.yaml', docs(true));
    const { store, directory } = storeFromManifests(dir, { logger, clock: new TestClock(new Date('2031-03-02T09:00:00Z')) });
    manager = new Manager({ store, logger, clock: new TestClock(new Date('2031-03-02T09:00:00Z')) });
    await manager.start();
    await manager.idle();
    expect(describeDirectory(db).map((row) => row.groups)).toEqual([['prod-admins', 'staff']]);

    writeManifests(dir, 'company.yaml', docs(false));
    directory.reload();
    await manager.idle();
    expect(describeDirectory(db).map((row) => row.groups)).toEqual([['staff']]);
  });
});
