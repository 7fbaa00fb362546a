// A ConnectedSystem deleted under deletionPolicy deprovision goes through the one apply path
// (controllers/apply-change.ts): past the deletion guard it is held with its finalizer, the approval
// of the count shown releases it, and every change logs one audit line. The controllers on the
// embedded sqlite system; the e2e twin (test/e2e/attacks/system-deletion-guard.test.ts) runs it on
// the real API server and PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { accessBinding, accessRole, sqliteSystem, user, writeManifests, type Manifest } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const USERS = Array.from({ length: 12 }, (_, i) => `u${String(i).padStart(2, '0')}`);
const KEY = { namespace: 'acme', name: 'directory' };

function manifests(db: string, withSystem: boolean): Manifest[] {
  return [
    ...(withSystem ? [sqliteSystem('directory', db, { deletionPolicy: 'deprovision', deletionGuard: { maxCount: 1 } })] : []),
    accessRole('staff', { directory: ['staff'] }),
    accessBinding('staff', { users: USERS }),
    ...USERS.map((name) => user(name)),
  ];
}

describe('deleting a system under deletionPolicy deprovision', () => {
  let dir: string;
  let db: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const { logger, records } = capturedLogger('info');
  const settle = async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    await manager.idle();
  };
  const present = () =>
    describeDirectory(db)
      .filter((row) => row.state === 'present')
      .map((row) => row.userName);
  const deletionLines = () => records.filter((r) => r['audit'] === true && (r['cause'] as { reason?: string } | undefined)?.reason?.includes('being deleted'));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-sysdel-'));
    db = join(dir, 'directory.db');
    writeManifests(dir, 'all.yaml', manifests(db, true));
    ({ store, directory } = storeFromManifests(dir, { logger }));
    manager = new Manager({ store, logger });
    await manager.start();
    await manager.idle();
  });

  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is held past the guard with its finalizer, then released by the approved count, one audit line per change', async () => {
    expect(present()).toEqual(USERS);
    writeManifests(dir, 'all.yaml', manifests(db, false)); // kubectl delete csys directory
    directory.reload();
    await settle();
    const held = store.get('ConnectedSystem', KEY);
    expect(held?.metadata.finalizers).toContain('rollcall.dev/deprovision');
    expect(held?.status?.conditions?.find((c) => c.type === 'DeletionGuardTripped')).toMatchObject({
      status: 'True',
      message: expect.stringContaining('rollcall.dev/approve-deprovision="12"'),
    });
    expect(USERS.length - present().length).toBeLessThanOrEqual(1);
    expect(deletionLines()).toEqual([]);

    await store.setAnnotations('ConnectedSystem', KEY, { 'rollcall.dev/approve-deprovision': '12' });
    await settle();
    await manager.idle();
    expect(store.get('ConnectedSystem', KEY)).toBeUndefined();
    expect(present()).toEqual([]);
    const lines = deletionLines();
    const changes = lines.map((r) => `${String(r['userName'])} ${String(r['op'])} ${String(r['entitlement'] ?? '')}`);
    expect(new Set(changes).size).toBe(changes.length);
    expect(
      lines
        .filter((r) => r['op'] === 'disable')
        .map((r) => r['userName'])
        .sort(),
    ).toEqual(USERS);
    expect(lines[0]).toMatchObject({ audit: true, namespace: 'acme', system: 'directory', cause: { kind: 'ConnectedSystem', name: 'directory' } });
    expect(lines[0]).not.toHaveProperty('user');
  });
});
