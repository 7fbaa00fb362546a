// The store of standalone mode: the state the previous run left (its state file), with the
// manifests applied over it, so what left them meanwhile is deleted. `rollcall run --manifests DIR`
// runs on it and `rollcall plan -f DIR` plans on it: both see the same statuses, finalizers and deletions.
import type { Logger } from 'pino';
import type { Clock } from '../clock/clock.ts';
import { ManifestDirectory } from '../manifests/directory.ts';
import { ApplyRefusedError } from '../manifests/errors.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { readStateFile } from '../store/state-file.ts';

export interface EmbeddedStore {
  store: MemoryStore;
  directory: ManifestDirectory;
  /** A state file was read (false: none yet, a first run). */
  restored: boolean;
}

/** Reads the state file (never writes it) and the manifests; throws, naming what to fix, when either cannot be used. */
export interface EmbeddedStoreOptions {
  watch: boolean;
  logger: Logger;
  clock?: Clock;
  /** `rollcall run`: apply the valid objects and report the invalid ones (ManifestDirectoryOptions.partial). */
  partial?: boolean;
  /** `rollcall run`: the finalizer a newly declared User gets at once (MemoryStoreOptions.claimDeclaredUsers). */
  claimDeclaredUsers?: string;
  /** `rollcall run`: where first-password Secrets are written, one 0600 file each (MemoryStoreOptions.ownedSecretsDirectory). */
  ownedSecretsDirectory?: string;
}

export function openEmbeddedStore(manifests: string, statePath: string, options: EmbeddedStoreOptions): EmbeddedStore {
  const stored = readStateFile(statePath, manifests);
  const store = MemoryStore.restore(stored ?? [], {
    logger: options.logger,
    clock: options.clock,
    claimDeclaredUsers: options.claimDeclaredUsers,
    ownedSecretsDirectory: options.ownedSecretsDirectory,
  });
  const directory = new ManifestDirectory(manifests, store, { watch: options.watch, logger: options.logger, partial: options.partial });
  try {
    directory.load();
  } catch (error) {
    if (!(error instanceof ApplyRefusedError)) throw error;
    throw new Error(
      `the manifests in ${manifests} change what ${statePath} remembers in a way a cluster would refuse:\n${error.problems.map((p) => `  ${p}`).join('\n')}\n` +
        'Change them back, or delete the object in one run and declare it anew in the next.',
      { cause: error },
    );
  }
  return { store, directory, restored: stored !== undefined };
}
