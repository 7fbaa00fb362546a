// What `rollcall run --manifests DIR --once` leaves on disk names every account and holds password
// hashes: the state file, the sqlite directory file and its -wal/-shm siblings are the owner's only
// (0600, the .rollcall directory 0700), whatever the umask; a file an older version left
// world-readable is narrowed by the next run.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDirectory } from '../../../src/connectors/sqlite/database.ts';
import { sqliteSystem, user, writeManifests } from '../../helpers/manifests.ts';
import { rollcall } from '../../helpers/rollcall-cli.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('files rollcall run writes are private to its user', () => {
  let root = '';
  const db = () => join(root, '.rollcall', 'directory.db');
  const state = () => join(root, '.rollcall', 'company.state.json');

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rollcall-private-'));
    mkdirSync(join(root, 'company'));
    writeManifests(join(root, 'company'), 'all.yaml', [
      sqliteSystem('directory', '.rollcall/directory.db', { deprovision: { policy: 'disable' } }),
      user('alice'),
    ]);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates the state file and the sqlite file 0600, the .rollcall directory 0700', { timeout: 60_000 }, async () => {
    const run = await rollcall(['run', '--manifests', 'company', '--once'], root);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(mode(join(root, '.rollcall'))).toBe(0o700);
    expect(mode(state())).toBe(0o600);
    expect(mode(db())).toBe(0o600);
  });

  it('gives the -wal and -shm files of an open directory the same 0600', () => {
    const path = join(root, 'open', 'directory.db');
    const database = openDirectory(path, { busyTimeoutMs: 100 });
    try {
      database.exec("INSERT INTO meta (key, value) VALUES ('probe', 'x')");
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        expect(existsSync(file), file).toBe(true);
        expect(mode(file), file).toBe(0o600);
      }
      expect(mode(join(root, 'open'))).toBe(0o700);
    } finally {
      database.close();
    }
  });

  it('narrows files an earlier run left world-readable', { timeout: 60_000 }, async () => {
    chmodSync(state(), 0o644);
    chmodSync(db(), 0o644);
    const run = await rollcall(['run', '--manifests', 'company', '--once'], root);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(mode(state())).toBe(0o600);
    expect(mode(db())).toBe(0o600);
  });
});
