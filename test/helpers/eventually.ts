// Waits until a check stops throwing, for tests that watch a controller converge. Wall-clock waits
// use performance.now (a duration), never the date, so a shifted clock cannot stretch or cut them.
import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /** How long to keep trying (default 60 s). */
  timeoutMs?: number;
  /** Pause between tries (default 300 ms). */
  intervalMs?: number;
  /** Appended to the last error: e.g. the last log lines of the process under test. */
  logs?: () => string;
}

/** Runs `check` until it returns without throwing, and returns its value; rethrows its last error at the deadline. */
export async function eventually<T>(check: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const { timeoutMs = 60_000, intervalMs = 300, logs } = options;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (performance.now() > deadline) {
        if (logs && error instanceof Error) error.message += `\n(after ${timeoutMs} ms; the last log lines:)\n${logs()}`;
        throw error;
      }
      await sleep(intervalMs);
    }
  }
}

/** Polls `probe` until it returns a value other than undefined (an error counts as not yet), on `eventually`. */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs?: number; everyMs?: number; logs?: () => string } = {},
): Promise<T> {
  const check = async () => {
    const value = await probe();
    if (value === undefined) throw new Error(`timed out waiting for ${what}`);
    return value;
  };
  return eventually(check, {
    timeoutMs: options.timeoutMs,
    intervalMs: options.everyMs ?? 250,
    logs: options.logs && (() => `rollcall output:\n${options.logs!().slice(-4000)}`),
  });
}

/** The last `count` lines of a process's captured output, for `logs`. */
export function lastLines(chunks: readonly string[], count = 30): string {
  return chunks.join('').split('\n').slice(-count).join('\n');
}
