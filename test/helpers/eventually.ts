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

/** The last `count` lines of a process's captured output, for `logs`. */
export function lastLines(chunks: readonly string[], count = 30): string {
  return chunks.join('').split('\n').slice(-count).join('\n');
}
