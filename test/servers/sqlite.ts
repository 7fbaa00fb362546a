// The sqlite "server" for tests: a directory file in a temp dir. Nothing runs, so "down" and "hung"
// are made with the file itself: down = a directory where the file should be; hung = another
// connection holding the write lock.
import { mkdir, mkdtemp, rename, rm, rmdir } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerControl } from './test-server.ts';

export interface SqliteServer extends ServerControl {
  /** The directory file; it does not exist until something opens it. */
  path: string;
}

export async function startSqliteServer(): Promise<SqliteServer> {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-sqlite-'));
  const path = join(dir, 'directory.db');
  const aside = `${path}.stopped`;
  let lock: DatabaseSync | undefined;
  return {
    path,
    async stop() {
      await rename(path, aside);
      await mkdir(path);
    },
    async restart() {
      await rmdir(path);
      await rename(aside, path);
    },
    freeze() {
      // In write-ahead-log mode this stops writers only: readers go on reading the last commit.
      lock = new DatabaseSync(path);
      lock.exec('BEGIN EXCLUSIVE');
    },
    thaw() {
      lock?.exec('COMMIT');
      lock?.close();
      lock = undefined;
    },
    async close() {
      if (lock?.isOpen) lock.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
