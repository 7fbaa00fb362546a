// Cooperative scheduling. A chain of promises that never waits for I/O — a resync where every
// account is cached and in sync, or a long loop over thousands of Users — runs as one unbroken
// run of microtasks: timers, sockets and the answers of remote systems wait behind it, and their
// timeouts fire while the answers sit unread. Long paths call this between units of work.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** How long synchronous work may run before it lets the event loop take a turn. */
export const SLICE_MS = 10;

let sliceStartedAt = performance.now();

/** Lets the event loop take a turn if the current slice of work has run for SLICE_MS or more. */
export async function yieldIfBusy(): Promise<void> {
  if (performance.now() - sliceStartedAt < SLICE_MS) return;
  await nextTurn();
  sliceStartedAt = performance.now();
}
