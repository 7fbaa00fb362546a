// An informer (list, then watch, with a cache) that keeps itself alive. client-node's ListWatch
// stops for good after a watch error it does not recognise, and a watch can also go silent without
// any error (a dead connection behind a proxy that keeps it open): the store would then serve an
// ever older cache. Freshness is proven only by what the API server sends: a watch event (bookmarks
// too), a watch the server ended cleanly (each is asked to end after watchSeconds, so a quiet
// healthy watch still proves itself that often), or a successful listing. A reconnect proves
// nothing: it may go through the same dead path. When no proof came for silentAfterMs the watchdog
// re-lists (which also replays every change the dead watch missed, deletions included) and
// watches again; when none came for twice that, the informer reports itself dead (/healthz).
import { setTimeout as delay } from 'node:timers/promises';
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface WatchdogOptions {
  /** Re-list a watch that has proven nothing for this long (default 20 s); dead after twice that. */
  silentAfterMs?: number;
  /** The API server ends each watch after this long (default 10 s); the informer resumes it from the last resourceVersion. */
  watchSeconds?: number;
  /** First pause before a restart; doubles while restarts keep failing, up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** How long start() keeps retrying a first listing that fails for a passing reason. Default 60 s. */
  startTimeoutMs?: number;
}

export interface InformerHealth {
  restarts: number;
  /** Since the last proof that the cache was current: a watch event, a cleanly ended watch, or a listing. */
  silentForMs: number;
  running: boolean;
  /** Why the cache may be stale (running, yet no proof for twice silentAfterMs); absent while healthy. */
  dead?: string;
}

type ObjectHandler<T> = (object: T) => void;

export class WatchedInformer<T extends KubernetesObject> {
  readonly #name: string;
  readonly #informer: ListWatch<T>;
  readonly #logger: Logger;
  readonly #silentAfterMs: number;
  readonly #watchSeconds: number;
  readonly #restartDelayMs: number;
  readonly #maxRestartDelayMs: number;
  readonly #startTimeoutMs: number;
  #lastActivity = performance.now();
  #restarts = 0;
  #stopped = true;
  #restarting = false;
  /** The error seen while start() ran, if any: start() itself never rejects. */
  #startError: unknown;
  /** Why the last restart or watch failed, for the health report. */
  #lastFailure: string | undefined;
  #timer: NodeJS.Timeout | undefined;

  /**
   * `prepare` turns each object the list and the watch bring into the one the cache keeps (the
   * store's parsed copy): the cache then holds one copy per version, not the raw one beside it.
   */
  constructor(
    name: string,
    kubeconfig: KubeConfig,
    path: string,
    list: () => Promise<KubernetesListObject<T>>,
    logger: Logger,
    options: WatchdogOptions = {},
    prepare: (object: T) => T = (object) => object,
  ) {
    this.#name = name;
    this.#logger = logger;
    this.#silentAfterMs = options.silentAfterMs ?? 20_000;
    this.#watchSeconds = options.watchSeconds ?? 10;
    this.#restartDelayMs = options.restartDelayMs ?? 1000;
    // Short enough that an API server back from a restart is found again well within 30 s.
    this.#maxRestartDelayMs = options.maxRestartDelayMs ?? 8_000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 60_000;
    const listed = async () => {
      const result = await list();
      this.#alive();
      return { ...result, items: result.items.map(prepare) };
    };
    this.#informer = new ListWatch(path, this.#provingWatch(new Watch(kubeconfig), prepare), listed, false);
    this.#informer.on('error', (error: unknown) => this.#onError(error));
  }

  on(verb: 'add' | 'update' | 'delete', handler: ObjectHandler<T>): void {
    this.#informer.on(verb, handler);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#informer.get(name, namespace);
  }

  list(namespace?: string): ReadonlyArray<T> {
    return this.#informer.list(namespace);
  }

  health(): InformerHealth {
    const silentFor = performance.now() - this.#lastActivity;
    // A stopped informer is not dead: it was stopped on purpose (a standby, a shutdown).
    const dead = this.#stopped
      ? undefined
      : silentFor > 2 * this.#silentAfterMs
        ? `no watch event and no successful listing for ${Math.round(silentFor / 1000)}s${this.#lastFailure ? ` (last failure: ${this.#lastFailure})` : ''}`
        : undefined;
    return { restarts: this.#restarts, silentForMs: silentFor, running: !this.#stopped, ...(dead ? { dead } : {}) };
  }

  /**
   * The watch client-node's ListWatch uses, with a server-side end (watchSeconds) and bookmarks
   * asked for, and every proof of freshness noted: an event, or a watch the server ended cleanly.
   */
  #provingWatch(inner: Watch, prepare: (object: T) => T): Watch {
    const proving: Pick<Watch, 'watch'> = {
      watch: (path, queryParams, callback, done) =>
        inner.watch(
          path,
          { ...queryParams, timeoutSeconds: this.#watchSeconds, allowWatchBookmarks: true },
          (phase, object, raw) => {
            this.#logger.trace({ informer: this.#name, phase }, 'watch event');
            this.#alive();
            // A bookmark or an error (a Status) is no object of the kind.
            callback(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? prepare(object as T) : object, raw);
          },
          (error: unknown) => {
            this.#logger.trace({ informer: this.#name, err: error }, 'watch ended');
            if (error === null || error === undefined) {
              this.#alive();
              // A clean end delivered everything up to the last resourceVersion, as a bookmark says;
              // passed on as one, it also keeps ListWatch from backing off before the next watch
              // (it doubles its pause after each watch that brought no event: 1, 2, 4... 30 s).
              callback('BOOKMARK', { metadata: { resourceVersion: this.#informer.latestResourceVersion() } });
            }
            done(error);
          },
        ),
    };
    return proving as Watch;
  }

  /**
   * Resolves after the first full listing. Rejects at once when that can never work (missing CRD,
   * no permission), and after startTimeoutMs when the API server stays busy or unreachable (a
   * freshly created CRD answers 429 "storage is (re)initializing" for a moment).
   */
  async start(): Promise<void> {
    this.#stopped = false;
    const deadline = performance.now() + this.#startTimeoutMs;
    let pause = this.#restartDelayMs;
    for (;;) {
      this.#startError = undefined;
      this.#restarting = true;
      try {
        await this.#informer.start();
      } finally {
        this.#restarting = false;
      }
      const error = this.#startError;
      if (error === undefined) break;
      await this.#informer.stop();
      if (!isTransient(error) || performance.now() + pause > deadline || this.#stopped) {
        this.#stopped = true;
        throw error;
      }
      this.#logger.info({ informer: this.#name, reason: errorText(error), retryInMs: pause }, 'first listing failed; retrying');
      await delay(pause);
      pause = Math.min(pause * 2, this.#maxRestartDelayMs);
    }
    this.#lastActivity = performance.now();
    const checkEveryMs = Math.max(10, Math.min(this.#silentAfterMs / 10, 2_000));
    this.#timer = setInterval(() => this.#checkSilence(), checkEveryMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#informer.stop();
  }

  /**
   * Stops and starts the watch again, retrying with backoff until it is back or the informer is
   * stopped. With `relist`, lists everything first instead of resuming from the last resourceVersion:
   * a watch that went silent may have lost events a resumed watch would not replay.
   */
  async restart(reason: string, { relist = false }: { relist?: boolean } = {}): Promise<void> {
    if (this.#stopped || this.#restarting) return;
    this.#restarting = true;
    let pause = this.#restartDelayMs;
    try {
      while (!this.#stopped) {
        this.#logger.warn({ informer: this.#name, reason, retryInMs: pause }, 'restarting the watch');
        await this.#informer.stop();
        // The pause also lets the aborted request finish before a new one begins.
        await delay(pause);
        if (this.#stopped) return;
        // client-node has no public way to ask for a listing; an empty resourceVersion is what its own
        // 410 Gone handling sets to get one.
        if (relist) (this.#informer as unknown as { resourceVersion: string }).resourceVersion = '';
        this.#startError = undefined;
        await this.#informer.start();
        this.#restarts++;
        if (this.#startError === undefined) {
          // No #alive() here: a resumed watch proves nothing until an event or a clean end arrives.
          this.#logger.info({ informer: this.#name, relisted: relist }, 'watch restarted');
          return;
        }
        reason = errorText(this.#startError);
        this.#lastFailure = reason;
        pause = Math.min(pause * 2, this.#maxRestartDelayMs);
      }
    } finally {
      this.#restarting = false;
    }
  }

  #alive(): void {
    this.#lastActivity = performance.now();
  }

  #onError(error: unknown): void {
    // Our own stop() aborts the request, and client-node reports that as an error too.
    if (isAbort(error)) return;
    if (this.#restarting) {
      this.#startError = error;
      return;
    }
    if (this.#stopped) return;
    this.#lastFailure = errorText(error);
    this.#logger.warn({ informer: this.#name, err: error }, 'watch failed');
    void this.restart(errorText(error));
  }

  #checkSilence(): void {
    const silentFor = performance.now() - this.#lastActivity;
    if (silentFor > this.#silentAfterMs) void this.restart(`no watch event and no listing for ${Math.round(silentFor / 1000)}s`, { relist: true });
  }
}

/** Worth retrying: throttling, server errors, and no answer at all; not 4xx answers like 403 or 404. */
function isTransient(error: unknown): boolean {
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  const status = typeof code === 'number' ? code : typeof statusCode === 'number' ? statusCode : undefined;
  return status === undefined || status === 429 || status >= 500;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
