// The controllers on the in-memory store fed from a manifest directory, started and run until idle:
// what `rollcall run --manifests DIR` does before it prints, for tests that then inspect the result.
import { pino } from 'pino';
import { Manager } from '../../src/controllers/manager.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';

export async function convergedManager(dir: string): Promise<{ store: MemoryStore; manager: Manager }> {
  const logger = pino({ level: 'silent' });
  const store = MemoryStore.fromDirectory(dir, { watch: false, logger });
  const manager = new Manager({ store, logger });
  await manager.start();
  await manager.idle();
  return { store, manager };
}
