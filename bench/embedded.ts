// The embedded setup of `rollcall run --manifests DIR`: manifests in a directory, the in-memory
// store, the Manager with its work queues, and three sqlite ConnectedSystems (files in one temp dir).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pino } from 'pino';
import { openEmbeddedStore } from '../src/cli/embedded-store.ts';
import type { AppliedChanges } from '../src/controllers/context.ts';
import { Manager } from '../src/controllers/manager.ts';
import type { ManifestDirectory } from '../src/manifests/directory.ts';
import type { MemoryStore } from '../src/store/memory-store.ts';
import { generateWorld, SYSTEM_NAMES, writeManifests, type WorldInput } from './world.ts';

export const logger = pino({ level: 'silent' });

export interface Workspace {
  manifests: string;
  databases: string[];
  input: WorldInput;
  remove(): void;
}

/**
 * The sqlite files go to a RAM disk when there is one: node:sqlite syncs every transaction, and on
 * a shared VM disk that fsync, not Rollcall, would dominate. `onDisk` measures that case too.
 */
export function benchDirectory(onDisk: boolean): string {
  return !onDisk && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

export function createWorkspace(userCount: number, onDisk = false): Workspace {
  const root = mkdtempSync(join(benchDirectory(onDisk), 'rollcall-bench-'));
  const manifests = join(root, 'manifests');
  mkdirSync(manifests);
  const databases = SYSTEM_NAMES.map((name) => join(root, `${name}.db`));
  const input = generateWorld(userCount, (name) => ({
    type: 'sqlite',
    sqlite: { path: join(root, `${name}.db`) },
    deprovision: { policy: 'disable' },
    orphans: 'report',
  }));
  writeManifests(manifests, input);
  return { manifests, databases, input, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export function removeDatabases(workspace: Workspace): void {
  for (const path of workspace.databases) rmSync(path, { force: true });
}

/**
 * A started manager on the directory's manifests, counting the account changes it applies. The store
 * is built as `rollcall run --manifests DIR` builds it, on a first run (no state file beside the
 * directory); `directory.reload()` is what the file watcher calls after an edit.
 */
export async function startManager(
  manifests: string,
  onApplied?: (applied: AppliedChanges) => void,
): Promise<{ store: MemoryStore; directory: ManifestDirectory; manager: Manager; applied: AppliedChanges[] }> {
  const { store, directory } = openEmbeddedStore(manifests, `${manifests}.state.json`, { watch: false, logger });
  const applied: AppliedChanges[] = [];
  const manager = new Manager({ store, logger, onApplied: (a) => (applied.push(a), onApplied?.(a)) });
  await manager.start();
  return { store, directory, manager, applied };
}

/** `rollcall run --manifests DIR --once`: load, converge, stop. Returns the applied changes. */
export async function runOnce(manifests: string): Promise<{ applied: AppliedChanges[]; ready: number; users: number }> {
  const { store, manager, applied } = await startManager(manifests);
  await manager.idle();
  const users = store.list('User');
  const ready = users.filter((u) => u.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  await manager.stop();
  return { applied, ready, users: users.length };
}

/**
 * Every write bumps an account's version (or adds/removes a row), so equal fingerprints before
 * and after a pass prove it wrote nothing.
 */
export function fingerprint(databases: string[]): { versionSum: number; accounts: number; memberships: number; disabled: number } {
  const total = { versionSum: 0, accounts: 0, memberships: 0, disabled: 0 };
  for (const path of databases) {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const a = db.prepare('SELECT count(*) AS n, coalesce(sum(version), 0) AS v, coalesce(sum(disabled), 0) AS d FROM accounts').get()!;
      const m = db.prepare('SELECT count(*) AS n FROM memberships').get()!;
      total.accounts += Number(a.n);
      total.versionSum += Number(a.v);
      total.disabled += Number(a.d);
      total.memberships += Number(m.n);
    } finally {
      db.close();
    }
  }
  return total;
}

export function sameFingerprint(a: ReturnType<typeof fingerprint>, b: ReturnType<typeof fingerprint>): boolean {
  return a.versionSum === b.versionSum && a.accounts === b.accounts && a.memberships === b.memberships && a.disabled === b.disabled;
}
