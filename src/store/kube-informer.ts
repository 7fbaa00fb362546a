// An informer (list, then watch, with a cache) that keeps itself alive. client-node's ListWatch
// stops for good after a watch error it does not recognise, and a watch can also go silent without
// any error (a dead connection behind a proxy): the store would then serve an ever older cache. The
// watchdog restarts the informer in both cases; a restart resumes the watch from the last
// resourceVersion, and a 410 Gone from the API server makes the informer relist.
import { setTimeout as delay } from 'node:timers/promises';
import { makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface WatchdogOptions {
  /** Restart a watch that has shown no sign of life for this long. Default 5 minutes. */
  silentAfterMs?: number;
  /** First pause before a restart; doubles while restarts keep failing, up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** How long start() keeps retrying a first listing that fails for a passing reason. Default 60 s. */
  startTimeoutMs?: number;
}

export interface InformerHealth {
  restarts: number;
  lastActivity: Date;
  running: boolean;
}

type ObjectHandler<T> = (object: T) => void;

export class WatchedInformer<T extends KubernetesObject> {
  readonly #name: string;
  readonly #informer: Informer<T> & ObjectCache<T>;
  readonly #logger: Logger;
  readonly #silentAfterMs: number;
  readonly #restartDelayMs: number;
  readonly #maxRestartDelayMs: number;
  readonly #startTimeoutMs: number;
  #lastActivity = performance.now();
  #restarts = 0;
  #stopped = true;
  #restarting = false;
  /** The error seen while start() ran, if any: start() itself never rejects. */
  #startError: unknown;
  #timer: NodeJS.Timeout | undefined;

  constructor(name: string, kubeconfig: KubeConfig, path: string, list: () => Promise<KubernetesListObject<T>>, logger: Logger, options: WatchdogOptions = {}) {
    this.#name = name;
    this.#logger = logger;
    this.#silentAfterMs = options.silentAfterMs ?? 5 * 60_000;
    this.#restartDelayMs = options.restartDelayMs ?? 1000;
    this.#maxRestartDelayMs = options.maxRestartDelayMs ?? 30_000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 60_000;
    const listed = async () => {
      const result = await list();
      this.#alive();
      return result;
    };
    this.#informer = makeInformer(kubeconfig, path, listed);
    for (const verb of ['add', 'update', 'delete', 'connect'] as const) this.#informer.on(verb as 'add', () => this.#alive());
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
    return { restarts: this.#restarts, lastActivity: new Date(this.#lastActivity), running: !this.#stopped };
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
    const checkEveryMs = Math.max(10, Math.min(this.#silentAfterMs / 4, 30_000));
    this.#timer = setInterval(() => this.#checkSilence(), checkEveryMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#informer.stop();
  }

  /** Stops and starts the watch again, retrying with backoff until it is back or the informer is stopped. */
  async restart(reason: string): Promise<void> {
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
        this.#startError = undefined;
        await this.#informer.start();
        this.#restarts++;
        if (this.#startError === undefined) {
          this.#alive();
          this.#logger.info({ informer: this.#name }, 'watch restarted');
          return;
        }
        reason = errorText(this.#startError);
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
    this.#logger.warn({ informer: this.#name, err: error }, 'watch failed');
    void this.restart(errorText(error));
  }

  #checkSilence(): void {
    const silentFor = performance.now() - this.#lastActivity;
    if (silentFor > this.#silentAfterMs) void this.restart(`no watch activity for ${Math.round(silentFor / 1000)}s`);
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
