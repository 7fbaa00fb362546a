// Cooperative scheduling. A chain of promises that never waits for I/O — a resync where every
// account is cached and in sync, or a long loop over thousands of Users — runs as one unbroken
// run of microtasks: timers, sockets and the answers of remote systems wait behind it, and their
// timeouts fire while the answers sit unread. Long paths call this between units of work.

// Captured at load: this is about the real event loop, even under a test's fake timers.
const monotonicNow = performance.now.bind(performance);
const onNextTurn = globalThis.setImmediate;
const nextTurn = () => new Promise<void>((resolve) => onNextTurn(resolve));

/** How long synchronous work may run in one turn of the event loop before it lets the loop go on. */
export const SLICE_MS = 10;

/** When the event loop last reached its check phase: the start of the current turn's budget. */
let turnStartedAt = monotonicNow();
let turnWatched = false;

function watchTurn(): void {
  if (turnWatched) return;
  turnWatched = true;
  onNextTurn(() => {
    turnWatched = false;
    turnStartedAt = monotonicNow();
  });
}

/**
 * Waits for the next turn of the event loop if this turn's budget (SLICE_MS) is spent. The budget is
 * the loop's, not the caller's: many workers resumed in one turn share it, so together they never
 * hold the loop for much longer than a slice.
 */
export async function yieldIfBusy(): Promise<void> {
  watchTurn();
  while (monotonicNow() - turnStartedAt >= SLICE_MS) {
    await nextTurn();
    watchTurn();
  }
}
