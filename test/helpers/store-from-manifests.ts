// The in-memory store built the way `rollcall run --manifests DIR` and `rollcall plan -f DIR` build it
// (src/cli/embedded-store.ts), on a first run: no state file yet, so the store holds exactly what the
// manifests declare. A test that edits the files applies them with the returned directory's reload().
import { pino, type Logger } from 'pino';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/cli/embedded-store.ts';
import type { Clock } from '../../src/clock/clock.ts';

export interface TestStoreOptions {
  /** Default: silent. */
  logger?: Logger;
  clock?: Clock;
}

export function storeFromManifests(manifests: string, options: TestStoreOptions = {}): EmbeddedStore {
  // Beside the directory, not in it (it would be read as a manifest); nothing in the tests writes it,
  // so every store starts as a first run.
  const statePath = `${manifests}.state.json`;
  return openEmbeddedStore(manifests, statePath, { watch: false, logger: options.logger ?? pino({ level: 'silent' }), clock: options.clock });
}
