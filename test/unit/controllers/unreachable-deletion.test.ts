// Deleting a User while its system is unreachable: the finalizer holds the User, its status and a
// SyncFailed Event say why, and once the system is back the account is deleted and the User goes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { aliceDirectory } from '../../helpers/alice-directory.ts';
import { writeManifests } from '../../helpers/manifests.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

describe('deleting a User whose system is unreachable', () => {
  let dir: string;
  let db: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const { logger, lines: logLines } = capturedLogger('info');

  const write = (path: string, withUser: boolean) => {
    writeManifests(join(dir, 'manifests'), 'all.yaml', aliceDirectory({ path, system: { deprovision: { policy: 'delete' } }, withUser }));
  };
  const settle = async () => {
    directory.reload();
    await manager.idle();
  };
  const alice = () => store.get('User', { namespace: 'acme', name: 'alice' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-unreachable-'));
    db = join(dir, 'directory.db');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'manifests'));
    writeFileSync(join(dir, 'not-a-directory'), 'x');
    write(db, true);
    ({ store, directory } = storeFromManifests(join(dir, 'manifests'), { logger }));
    manager = new Manager({ store, logger, timeoutMs: 2000 });
    await manager.start();
    await manager.idle();
  });

  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the User behind its finalizer and says why, then lets it go once the system is back', async () => {
    expect(describeDirectory(db).map((r) => r.userName)).toEqual(['alice']);

    // The system becomes unreachable: its file can no longer be opened.
    write(join(dir, 'not-a-directory', 'directory.db'), true);
    await settle();
    write(join(dir, 'not-a-directory', 'directory.db'), false); // kubectl delete user alice
    await settle();
    expect(alice()?.metadata.deletionTimestamp).toBeDefined();
    expect(alice()?.metadata.finalizers).toContain('rollcall.dev/deprovision');
    const account = alice()?.status?.accounts?.find((a) => a.system === 'directory');
    expect(account?.state).toBe('error');
    expect(account?.message).toBeTruthy();
    expect(alice()?.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'SystemUnavailable' });
    expect(logLines.join('')).toMatch(/"reason":"SyncFailed"/);
    expect(describeDirectory(db).map((r) => r.userName)).toEqual(['alice']);

    // Back again: the account is deleted, then the finalizer released.
    write(db, false);
    directory.reload();
    const deadline = Date.now() + 20_000;
    while (alice() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alice()).toBeUndefined();
    expect(describeDirectory(db)).toEqual([]);
  }, 30_000);
});
