// The manifest directory behind `rollcall run --manifests DIR`: read it, apply what it declares to
// the in-memory store, and read it again when its files change, as a person running
// `kubectl apply --prune -f DIR` after every edit would.
import { watch as watchFiles, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import { ApplyRefusedError } from './errors.ts';
import { formatManifestError, loadManifests, type LoadedObject } from './load.ts';

export interface ManifestDirectoryOptions {
  logger: Logger;
  /** Re-read the directory when its files change (after start()). */
  watch: boolean;
  /** Quiet time after the last file change before re-reading; editors write in several steps. */
  debounceMs?: number;
}

/** Where the declared objects go: MemoryStore.applyDeclared (all or nothing; may throw ApplyRefusedError). */
export interface DeclaredObjectsTarget {
  applyDeclared(objects: readonly LoadedObject[]): void;
}

export class ManifestDirectory {
  readonly dir: string;
  readonly #target: DeclaredObjectsTarget;
  readonly #logger: Logger;
  readonly #watch: boolean;
  readonly #debounceMs: number;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(dir: string, target: DeclaredObjectsTarget, options: ManifestDirectoryOptions) {
    this.dir = dir;
    this.#target = target;
    this.#logger = options.logger;
    this.#watch = options.watch;
    this.#debounceMs = options.debounceMs ?? 100;
  }

  /**
   * The first reading, before anything runs: throws, listing every problem, when the directory holds
   * anything `kubectl apply` would refuse, so nothing starts on a half-read directory.
   */
  load(): void {
    const { objects, errors } = loadManifests(this.dir);
    if (errors.length > 0) {
      throw new Error(`invalid manifests in ${this.dir}:\n${errors.map((error) => `  ${formatManifestError(error)}`).join('\n')}`);
    }
    this.#target.applyDeclared(objects);
  }

  /** Starts following file changes, if asked to. */
  start(): void {
    if (!this.#watch || this.#watcher !== undefined) return;
    this.#watcher = watchFiles(this.dir, { recursive: true }, () => this.#schedule());
    this.#watcher.on('error', (error) => this.#logger.error({ err: error, dir: this.dir }, 'watching the manifest directory failed'));
  }

  stop(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    clearTimeout(this.#timer);
  }

  /**
   * Re-reads the directory now (tests, SIGHUP) instead of waiting for a file event. Anything wrong
   * is logged and the previous state kept, as a refused `kubectl apply` would.
   */
  reload(): void {
    clearTimeout(this.#timer);
    let loaded: ReturnType<typeof loadManifests>;
    try {
      loaded = loadManifests(this.dir);
    } catch (error) {
      this.#logger.error({ err: error, dir: this.dir }, 'reading the manifest directory failed; keeping the previous state');
      return;
    }
    let problems = loaded.errors.map(formatManifestError);
    if (problems.length === 0) {
      try {
        this.#target.applyDeclared(loaded.objects);
        return;
      } catch (error) {
        if (!(error instanceof ApplyRefusedError)) throw error;
        problems = error.problems;
      }
    }
    for (const problem of problems) this.#logger.error({ dir: this.dir }, problem);
    this.#logger.error({ dir: this.dir, errors: problems.length }, 'manifests changed but are invalid; keeping the previous state');
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.reload(), this.#debounceMs);
  }
}
