// The controllers on the in-memory store fed from a manifest directory, started and run until idle:
// what `rollcall run --manifests DIR` does before it prints, for tests that then inspect the result.
// `directory.reload()` applies the files again after a test has changed them.
import { pino } from 'pino';
import { Manager } from '../../src/controllers/manager.ts';
import type { ManifestDirectory } from '../../src/manifests/directory.ts';
import type { MemoryStore } from '../../src/store/memory-store.ts';
import { storeFromManifests } from './store-from-manifests.ts';

export async function convergedManager(dir: string): Promise<{ store: MemoryStore; directory: ManifestDirectory; manager: Manager }> {
  const logger = pino({ level: 'silent' });
  const { store, directory } = storeFromManifests(dir, { logger });
  const manager = new Manager({ store, logger });
  await manager.start();
  await manager.idle();
  return { store, directory, manager };
}
