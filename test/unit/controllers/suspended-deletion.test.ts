// Deleting a User while its system is suspended: nothing may change there, so the User stays behind
// its finalizer (status says why) until the system resumes, and then its account is deprovisioned.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { aliceDirectory } from '../../helpers/alice-directory.ts';
import { writeManifests } from '../../helpers/manifests.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { convergedManager } from '../../helpers/converged-manager.ts';

describe('deleting a User while its system is suspended', () => {
  let dir: string;
  let db: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const write = (suspend: boolean, withUser: boolean) =>
    writeManifests(dir, 'all.yaml', aliceDirectory({ path: db, system: { deprovision: { policy: 'delete' }, suspend }, withUser }));
  const alice = () => store.get('User', { namespace: 'acme', name: 'alice' });
  const settle = async () => {
    directory.reload();
    await manager.idle();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-suspended-'));
    db = join(dir, 'directory.db');
    write(false, true);
    ({ store, directory, manager } = await convergedManager(dir));
  });

  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the finalizer and says why, then deprovisions once the system resumes', async () => {
    expect(describeDirectory(db).map((r) => r.userName)).toEqual(['alice']);
    write(true, true);
    await settle();
    write(true, false); // kubectl delete user alice, while the system is suspended
    await settle();
    expect(alice()?.metadata.finalizers).toContain('rollcall.dev/deprovision');
    expect(alice()?.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'SystemSuspended',
      message: expect.stringContaining('spec.suspend'),
    });
    expect(describeDirectory(db).map((r) => r.userName)).toEqual(['alice']);

    write(false, false); // the system resumes
    await settle();
    await manager.idle();
    expect(describeDirectory(db)).toEqual([]);
    expect(alice()).toBeUndefined();
  });
});
