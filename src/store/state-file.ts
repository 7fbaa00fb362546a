// The state file of `rollcall run --manifests DIR`. The manifests say what is declared; the
// controllers' own writes (status, finalizers, deletionTimestamp, an annotation they removed, and
// the uid, creationTimestamp and generation the store gave) exist only in the in-memory store. Kept
// on disk, the next run continues where this one stopped: a User removed from the files meanwhile
// still holds its finalizer and is deprovisioned (not found again as an orphan), a retention counts
// from when the account was really disabled, and a User who lost a system still knows it held an
// account there. Secrets and ConfigMaps are never written: they stay in the manifests.
import { readFileSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { KINDS, KIND_NAMES, type KindName } from '../api/index.ts';
import type { MemoryStore, StoredObject } from './memory-store.ts';
import { keyOf, keyString, type AnyResource } from './store.ts';

/** Written into the file, so a file of another format (or another program) is refused, not misread. */
export const STATE_FORMAT = 'rollcall.dev/state/v1';

/** Beside the embedded systems' data of the quick start (`.rollcall/quickstart.db`), relative to the working directory. */
export function defaultStatePath(manifests: string): string {
  return join('.rollcall', `${basename(resolve(manifests))}.state.json`);
}

/** Where `rollcall run --manifests` writes first-password Secrets: beside the state file, `<name>.initial-passwords/<namespace>/<secret>.yaml`. */
export function initialPasswordsDirectory(statePath: string): string {
  return `${statePath.replace(/\.json$/, '')}.initial-passwords`;
}

/**
 * The objects a previous run left, or undefined when there is no state file yet (a first run).
 * Anything else that keeps the file from being read throws, naming the file: silently starting
 * without the state would turn every leaver removed meanwhile into an orphan.
 */
export function readStateFile(path: string, manifests: string): StoredObject[] | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the state file ${path}: ${(error as Error).message}`, { cause: error });
  }
  const refuse = (problem: string, cause?: unknown) =>
    new Error(
      `the state file ${path} ${problem}. Repair it, or move it away to start afresh (Rollcall then forgets what it did: Users removed from the manifests since the last run are found as orphans)`,
      { cause },
    );
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw refuse(`is not valid JSON (${(error as Error).message})`, error);
  }
  if (!isRecord(document) || document.format !== STATE_FORMAT || !Array.isArray(document.objects)) {
    throw refuse(`is not a Rollcall state file: expected {"format": "${STATE_FORMAT}", "manifests": ..., "objects": [...]}`);
  }
  // The default path is named after the directory's last part only: never seed one directory's
  // objects into another's run, whose systems would then see them all as deleted.
  if (document.manifests !== resolve(manifests)) {
    throw new Error(
      `the state file ${path} belongs to the manifests in ${String(document.manifests)}, not ${resolve(manifests)}: give this directory its own with --state FILE (if the directory was moved, change "manifests" in the file to its new path)`,
    );
  }
  const problems: string[] = [];
  const objects: StoredObject[] = [];
  document.objects.forEach((entry: unknown, index) => {
    const parsed = parseEntry(entry);
    if (typeof parsed === 'string') problems.push(`objects[${index}]: ${parsed}`);
    else objects.push(parsed);
  });
  if (problems.length > 0) throw refuse(`holds objects Rollcall cannot use:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  return objects;
}

function parseEntry(entry: unknown): StoredObject | string {
  if (!isRecord(entry) || !isRecord(entry.object)) return 'must be {"object": {...}, "appliedAnnotations": {...}}';
  const kind = entry.object.kind;
  if (typeof kind !== 'string' || !(KIND_NAMES as string[]).includes(kind)) return `unknown kind ${JSON.stringify(kind)}`;
  const result = KINDS[kind as KindName].resource.safeParse(entry.object);
  const name = isRecord(entry.object.metadata) ? `${kind} ${String(entry.object.metadata.namespace)}/${String(entry.object.metadata.name)}` : kind;
  if (!result.success) return `${name}: ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`;
  const applied = entry.appliedAnnotations ?? {};
  if (!isRecord(applied) || Object.values(applied).some((value) => typeof value !== 'string')) return `${name}: appliedAnnotations must be a map of strings`;
  return { object: result.data as AnyResource, appliedAnnotations: applied as Record<string, string> };
}

export interface StateFileOptions {
  logger: Logger;
  /** The manifest directory the state belongs to, recorded in the file. */
  manifests: string;
  /** At most one write per interval, however many writes the store takes (default 1 s). */
  intervalMs?: number;
}

/**
 * Keeps the file equal to the store: every change marks it dirty, and one write per interval
 * catches up with all of them, so a pass that writes thousands of statuses rewrites the file a few
 * times, not thousands. Each write replaces the file whole and atomically (a temporary file
 * renamed over it), so a crash leaves the previous state or the new one, never half of each.
 * close() writes what is left.
 */
export class StateFile {
  readonly path: string;
  readonly #store: Pick<MemoryStore, 'watch' | 'snapshot'>;
  readonly #logger: Logger;
  readonly #manifests: string;
  readonly #intervalMs: number;
  readonly #unwatch: (() => void)[] = [];
  #dirty = false;
  /** A change a connector write must not overtake is not on disk yet (see ahead()). */
  #ahead = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #writes = 0;

  constructor(path: string, store: Pick<MemoryStore, 'watch' | 'snapshot'>, options: StateFileOptions) {
    this.path = path;
    this.#store = store;
    this.#logger = options.logger;
    this.#manifests = resolve(options.manifests);
    this.#intervalMs = options.intervalMs ?? 1_000;
  }

  /** How often the file was written since start: a burst of store writes should cost a few. */
  get writes(): number {
    return this.#writes;
  }

  /** Follows the store's changes. The store's state so far (uids, files applied) is written soon too. */
  start(): void {
    for (const kind of KIND_NAMES)
      this.#unwatch.push(this.#store.watch(kind, (event, object, old) => this.#changed(event !== 'update' || !sameFinalizers(object, old))));
    this.#changed(true);
  }

  /**
   * Resolves once every change a connector write must not overtake is on disk: an object added or
   * gone, a finalizer added or removed (what tells the next run a User may hold accounts to
   * deprovision). Statuses need not wait: they record what was done, after it was done. Writes in
   * flight are waited for; then one write covers every such change made meanwhile, however many
   * syncs ask at once.
   */
  async ahead(): Promise<void> {
    while (this.#writing) await this.#writing.catch(() => undefined);
    if (this.#ahead) await this.flush();
  }

  /** Writes now if anything changed since the last write; throws, naming the file, when it cannot. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#writing) await this.#writing.catch(() => undefined);
    if (!this.#dirty) return;
    this.#dirty = false;
    const ahead = this.#ahead;
    this.#ahead = false;
    this.#writing = this.#write();
    try {
      await this.#writing;
    } catch (error) {
      this.#dirty = true;
      this.#ahead ||= ahead;
      throw new Error(`cannot write the state file ${this.path}: ${(error as Error).message}`, { cause: error });
    } finally {
      this.#writing = undefined;
    }
  }

  /** Stops following the store and writes what is left. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
    await this.flush();
  }

  #changed(ahead: boolean): void {
    this.#dirty = true;
    this.#ahead ||= ahead;
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch((error: unknown) => {
        this.#logger.error({ err: error, file: this.path }, 'writing the state file failed; retrying');
        this.#changed(false);
      });
    }, this.#intervalMs);
    // Never what keeps the process alive: close() writes the rest.
    this.#timer.unref();
  }

  async #write(): Promise<void> {
    // Statuses name every account and system: the file and a directory made for it are the owner's only.
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      // A temporary file a crashed run left keeps its mode through open(): set it, the rename keeps it.
      await handle.chmod(0o600);
      for (const chunk of serialize(this.#store.snapshot(), this.#manifests)) await handle.write(chunk);
      // On disk before the rename makes it the state: otherwise a power cut could leave an empty file.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.path);
    this.#writes++;
  }
}

/** Text up to this size is written at once: small enough to stay in V8's young generation. */
const CHUNK_CHARS = 64 * 1024;

/**
 * One object per line, sorted: small enough to read, and a diff between two runs shows what changed.
 * Made in chunks: 10,000 Users make a file of about 15 MB, which as one string (and once more as its
 * bytes) went to V8's large-object space on every write and grew the heap.
 */
function* serialize(stored: readonly StoredObject[], manifests: string): Generator<string> {
  const order = (entry: StoredObject) => `${KIND_NAMES.indexOf(entry.object.kind)}/${keyString(keyOf(entry.object))}`;
  const sorted = stored.map((entry) => ({ entry, order: order(entry) })).sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  let chunk = `{"format":${JSON.stringify(STATE_FORMAT)},"manifests":${JSON.stringify(manifests)},"objects":[\n`;
  for (const [index, { entry }] of sorted.entries()) {
    chunk += (index > 0 ? ',\n' : '') + JSON.stringify(entry);
    if (chunk.length < CHUNK_CHARS) continue;
    yield chunk;
    chunk = '';
  }
  yield `${chunk}\n]}\n`;
}

function sameFinalizers(object: AnyResource, old: AnyResource | undefined): boolean {
  const a = object.metadata.finalizers ?? [];
  const b = old?.metadata.finalizers ?? [];
  return a.length === b.length && a.every((f, i) => f === b[i]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
