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
  /**
   * A bad object costs only itself, as in a cluster (`rollcall run`): the valid objects are applied,
   * each invalid one is reported (problems) and, if it was declared before, keeps its previous
   * version. Without it (`rollcall plan`), one invalid manifest refuses the whole directory.
   */
  partial?: boolean;
}

/**
 * Where the declared objects go: MemoryStore.applyDeclared (all or nothing; may throw
 * ApplyRefusedError). What `keep` names is not deleted when undeclared.
 */
export interface DeclaredObjectsTarget {
  applyDeclared(objects: readonly LoadedObject[], keep?: (kind: string, key: { namespace: string; name: string }) => boolean): void;
}

export class ManifestDirectory {
  readonly dir: string;
  readonly #target: DeclaredObjectsTarget;
  readonly #logger: Logger;
  readonly #watch: boolean;
  readonly #debounceMs: number;
  readonly #partial: boolean;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** "Kind/namespace/name" of the objects each file held when it was last read whole (partial mode). */
  #fileObjects = new Map<string, string[]>();
  #problems: string[] = [];
  #kept: string[] = [];

  constructor(dir: string, target: DeclaredObjectsTarget, options: ManifestDirectoryOptions) {
    this.dir = dir;
    this.#target = target;
    this.#logger = options.logger;
    this.#watch = options.watch;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#partial = options.partial ?? false;
  }

  /** Partial mode: every invalid document of the last reading, by file, document and line. */
  get problems(): readonly string[] {
    return this.#problems;
  }

  /** Partial mode: the objects that kept their previous version at the last reading ("Kind namespace/name"). */
  get kept(): readonly string[] {
    return this.#kept;
  }

  /**
   * The first reading, before anything runs: throws, listing every problem, when the directory holds
   * anything `kubectl apply` would refuse, so nothing starts on a half-read directory.
   */
  load(): void {
    if (this.#partial) return this.#applyPartial(loadManifests(this.dir));
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
    if (this.#partial) return this.#applyPartial(loaded);
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

  /**
   * Applies every valid object and reports each invalid one. An invalid object that was declared
   * before is not taken as deleted: found by kind and name, or, for a file that cannot be read as a
   * whole (not YAML, too large, a document without kind or name), every object the file held when
   * last read; a file never read whole in this process holds back every deletion.
   */
  #applyPartial(loaded: ReturnType<typeof loadManifests>): void {
    const named = new Set<string>();
    const brokenFiles = new Set<string>();
    for (const error of loaded.errors) {
      if (error.kind !== undefined && error.name !== undefined && error.document !== undefined) named.add(`${error.kind}/${error.name}`);
      else brokenFiles.add(error.file);
    }
    const unknownFile = [...brokenFiles].some((file) => !this.#fileObjects.has(file));
    const fromBrokenFiles = new Set([...brokenFiles].flatMap((file) => this.#fileObjects.get(file) ?? []));
    const refused = new Set<string>();
    const kept = new Set<string>();
    const keep = (kind: string, key: { namespace: string; name: string }) => {
      const id = `${kind}/${key.namespace}/${key.name}`;
      const yes = unknownFile || fromBrokenFiles.has(id) || named.has(`${kind}/${key.name}`) || refused.has(id);
      if (yes) kept.add(`${kind} ${key.namespace}/${key.name}`);
      return yes;
    };
    const problems = loaded.errors.map(formatManifestError);
    let objects = loaded.objects;
    try {
      this.#target.applyDeclared(objects, keep);
    } catch (error) {
      if (!(error instanceof ApplyRefusedError)) throw error;
      // A change a cluster would refuse (an immutable field) costs only its object too.
      problems.push(...error.problems);
      for (const id of error.refused) refused.add(id);
      objects = objects.filter((object) => !refused.has(`${object.kind}/${object.metadata.namespace}/${object.metadata.name}`));
      kept.clear();
      this.#target.applyDeclared(objects, keep);
    }
    const byFile = new Map<string, string[]>();
    loaded.objects.forEach((object, index) => {
      const file = loaded.files[index]!;
      // Grown in place: a copy per object made reading a 10,000-User file quadratic.
      let ids = byFile.get(file);
      if (!ids) byFile.set(file, (ids = []));
      ids.push(`${object.kind}/${object.metadata.namespace}/${object.metadata.name}`);
    });
    for (const file of new Set([...byFile.keys(), ...this.#fileObjects.keys()])) {
      if (brokenFiles.has(file)) continue; // what it held last stays protected until it reads whole again
      if (byFile.has(file)) this.#fileObjects.set(file, byFile.get(file)!);
      else this.#fileObjects.delete(file);
    }
    this.#problems = problems;
    const declared = new Set(objects.map((object) => `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`));
    this.#kept = [...kept].filter((object) => !declared.has(object)).sort();
    for (const problem of problems) this.#logger.error({ dir: this.dir }, `invalid manifest, not applied: ${problem}`);
    for (const object of this.#kept)
      this.#logger.error({ dir: this.dir }, `${object} keeps its previous version: its manifest is invalid (not deleted until it is removed)`);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.reload(), this.#debounceMs);
  }
}
