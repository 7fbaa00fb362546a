// Waiting for a file another connection has locked, without stalling the process.
// node:sqlite is synchronous: a long busy_timeout would block the event loop, and with it every
// other connected system, for the whole wait. So SQLite waits only a short slice per attempt, and
// between attempts we yield to the event loop, until the connector's timeout has passed.
import { setTimeout as sleep } from 'node:timers/promises';
import { isLocked } from './errors.ts';

/** SQLite's busy_timeout for one attempt. */
export const LOCK_WAIT_SLICE_MS = 100;

/** Runs `attempt` until it is not refused by a lock, or `deadline` (performance.now() ms) passes: then the lock error is thrown. */
export async function whileLocked<T>(deadline: number, signal: AbortSignal, attempt: () => T): Promise<T> {
  for (;;) {
    signal.throwIfAborted();
    try {
      return attempt();
    } catch (error) {
      if (!isLocked(error) || performance.now() + LOCK_WAIT_SLICE_MS > deadline) throw error;
    }
    await sleep(LOCK_WAIT_SLICE_MS, undefined, { signal });
  }
}
