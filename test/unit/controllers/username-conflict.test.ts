// Two Users naming one userName: the oldest holds it and gets the account; the other is refused
// with a Conflict and gets nothing; once the holder is gone, the other takes the name.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { accessBinding, accessRole, sqliteSystem, user as userManifest, writeManifests, type Manifest } from '../../helpers/manifests.ts';
import { convergedManager } from '../../helpers/converged-manager.ts';

describe('two Users with one userName', () => {
  let dir: string;
  let db: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const user = (name: string, created: string, team: string) => userManifest({ name, creationTimestamp: created, labels: { team } }, { userName: 'alice' });
  const write = (users: Manifest[]) =>
    writeManifests(dir, 'all.yaml', [
      sqliteSystem('directory', db, { deprovision: { policy: 'delete' } }),
      ...['red', 'blue'].flatMap((team) => [accessRole(team, { directory: [team] }), accessBinding(team, { userSelector: { matchLabels: { team } } })]),
      ...users,
    ]);
  const first = user('alice-first', '2026-01-01T00:00:00Z', 'red');
  const second = user('alice-second', '2026-06-01T00:00:00Z', 'blue');
  const condition = (name: string, type: string) => store.get('User', { namespace: 'acme', name })?.status?.conditions?.find((c) => c.type === type);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-conflict-'));
    db = join(dir, 'directory.db');
    write([second, first]);
    ({ store, directory, manager } = await convergedManager(dir));
  });

  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the oldest holds the account; the other is refused with a Conflict that names it', () => {
    expect(describeDirectory(db)).toEqual([expect.objectContaining({ userName: 'alice', state: 'present', groups: ['red'] })]);
    expect(condition('alice-second', 'Conflict')).toMatchObject({ status: 'True', reason: 'UserNameTaken', message: expect.stringContaining('alice-first') });
    expect(condition('alice-second', 'Ready')).toMatchObject({ status: 'False', reason: 'Conflict' });
    expect(condition('alice-first', 'Ready')).toMatchObject({ status: 'True' });
  });

  it('once the holder is gone, the other takes the name', async () => {
    write([second]); // kubectl delete user alice-first: its account is deleted first
    directory.reload();
    await manager.idle();
    await manager.idle();
    expect(store.get('User', { namespace: 'acme', name: 'alice-first' })).toBeUndefined();
    expect(describeDirectory(db)).toEqual([expect.objectContaining({ userName: 'alice', state: 'present', groups: ['blue'] })]);
    expect(condition('alice-second', 'Conflict')).toMatchObject({ status: 'False' });
  });
});
