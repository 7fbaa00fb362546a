// Graceful shutdown on SIGTERM (Kubernetes stopping the pod) and SIGINT (Ctrl-C): stop in the
// reverse order of start (release the lease last-registered-first, after the queues drained), all
// within a deadline shorter than the pod's terminationGracePeriodSeconds (30 s by default).
import type { Logger } from './logger.ts';

export type ShutdownHandler = () => Promise<void> | void;

export interface ShutdownSettings {
  /** Everything must finish within this; then the process exits anyway. Default 25 s. */
  deadlineMs: number;
  exit: (code: number) => void;
  logger: Logger | undefined;
}

const settings: ShutdownSettings = { deadlineMs: 25_000, exit: (code) => process.exit(code), logger: undefined };
const handlers: ShutdownHandler[] = [];
let installed = false;
let shuttingDown: Promise<void> | undefined;

/** Registers a handler (run in reverse registration order) and, the first time, the signal handlers. Returns an unregister function. */
export function onShutdown(fn: ShutdownHandler): () => void {
  handlers.push(fn);
  if (!installed) {
    installed = true;
    process.on('SIGTERM', () => void handleSignal('SIGTERM'));
    process.on('SIGINT', () => void handleSignal('SIGINT'));
  }
  return () => {
    const index = handlers.lastIndexOf(fn);
    if (index >= 0) handlers.splice(index, 1);
  };
}

export function configureShutdown(options: Partial<ShutdownSettings>): void {
  Object.assign(settings, options);
}

/** Runs the handlers and exits: for paths other than a signal, such as leadership lost. */
export function shutdown(reason: string): Promise<void> {
  if (!shuttingDown) {
    settings.logger?.info({ reason }, 'shutting down');
    shuttingDown = runShutdownHandlers([...handlers], settings.deadlineMs, settings.logger).then(({ ok }) => settings.exit(ok ? 0 : 1));
  }
  return shuttingDown;
}

function handleSignal(signal: NodeJS.Signals): Promise<void> {
  // A second signal means the person is not willing to wait.
  if (shuttingDown) {
    settings.logger?.warn({ signal }, 'second signal: exiting now');
    settings.exit(1);
    return shuttingDown;
  }
  return shutdown(signal);
}

/**
 * Runs `list` last-first, one after the other; a failing handler does not stop the rest.
 * Resolves ok=false when a handler failed or the deadline passed (the remaining ones are abandoned).
 */
export async function runShutdownHandlers(list: readonly ShutdownHandler[], deadlineMs: number, logger?: Logger): Promise<{ ok: boolean; timedOut: boolean }> {
  let ok = true;
  let timedOut = false;
  const all = (async () => {
    for (const handler of [...list].reverse()) {
      if (timedOut) return;
      try {
        await handler();
      } catch (error) {
        ok = false;
        logger?.error({ err: error }, 'shutdown handler failed');
      }
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      ok = false;
      logger?.error({ deadlineMs }, 'shutdown deadline passed; exiting without waiting further');
      resolve();
    }, deadlineMs);
    timer.unref();
  });
  await Promise.race([all, deadline]);
  clearTimeout(timer);
  return { ok, timedOut };
}
