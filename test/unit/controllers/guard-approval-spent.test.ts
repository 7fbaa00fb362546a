// An approval of the deletion guard is spent (its annotation removed) only after the status that
// shows the guard released is written. Removed first, a reconcile reading the system in between
// would see the trip and no approval, latch the guard again, and hold the approved leavers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { TestClock } from '../../../src/clock/clock.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import type { ConnectedSystem } from '../../../src/api/index.ts';
import type { MemoryStore } from '../../../src/store/memory-store.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { accessBinding, accessRole, sqliteSystem, user, writeManifests, type Manifest } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const KEY = { namespace: 'acme', name: 'directory' };
const APPROVE = 'rollcall.dev/approve-deprovision';
const guardCondition = (system: ConnectedSystem | undefined) => system?.status?.conditions?.find((c) => c.type === 'DeletionGuardTripped');

describe('an approval of the deletion guard', () => {
  let dir: string;
  let db: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
  const manifests = (terminated: string[]): Manifest[] => [
    sqliteSystem('directory', db, { deletionGuard: { maxCount: 1 }, resyncInterval: '1m' }),
    accessRole('staff', { directory: ['staff'] }),
    accessBinding('staff', { users: ['a', 'b', 'c'] }),
    ...['a', 'b', 'c'].map((name) => user(name, terminated.includes(name) ? { state: 'terminated' } : {})),
  ];
  const apply = async (terminated: string[]) => {
    writeManifests(dir, 'all.yaml', manifests(terminated));
    directory.reload();
    await manager.idle();
  };
  const active = () =>
    describeDirectory(db)
      .filter((row) => row.state === 'present')
      .map((row) => row.userName);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-approval-'));
    db = join(dir, 'directory.db');
    writeManifests(dir, 'all.yaml', manifests([]));
    ({ store, directory } = storeFromManifests(dir, { logger: pino({ level: 'silent' }), clock }));
    manager = new Manager({ store, logger: pino({ level: 'silent' }), clock });
    await manager.start();
    await manager.idle();
  });

  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is removed only once the status shows the guard released, and the held leaver goes', async () => {
    expect(active()).toEqual(['a', 'b', 'c']);
    await apply(['a']);
    await apply(['a', 'b']); // 2 > maxCount 1: b is held, and the guard latches
    expect(active()).toEqual(['b', 'c']);
    expect(guardCondition(store.get('ConnectedSystem', KEY))).toMatchObject({ status: 'True' });

    // a's deprovision ages out of the window; the latched guard still holds b (1 pending, within the limit).
    clock.advance(2 * 60_000);
    await manager.requeueAll();
    await manager.idle();
    expect(active()).toEqual(['b', 'c']);
    const count = /approve-deprovision="(\d+)"/.exec(guardCondition(store.get('ConnectedSystem', KEY))!.message)?.[1];
    expect(count).toBe('1');

    // What the system showed each time its annotations changed.
    const seen: Array<{ approval: string | undefined; guard: string | undefined }> = [];
    const unwatch = store.watch('ConnectedSystem', (_event, object, old) => {
      const approval = (o: ConnectedSystem | undefined) => o?.metadata.annotations?.[APPROVE];
      if (approval(object as ConnectedSystem) !== approval(old as ConnectedSystem | undefined)) {
        seen.push({ approval: approval(object as ConnectedSystem), guard: guardCondition(object as ConnectedSystem)?.status });
      }
    });
    await store.setAnnotations('ConnectedSystem', KEY, { [APPROVE]: count! });
    await manager.idle();
    unwatch();
    expect(active()).toEqual(['c']);
    // Given while tripped, spent once released: never absent while the status still shows the trip.
    expect(seen).toEqual([
      { approval: '1', guard: 'True' },
      { approval: undefined, guard: 'False' },
    ]);
  });
});
