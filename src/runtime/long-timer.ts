// setTimeout fires at once for delays above 2^31-1 ms (about 24.8 days) with only a warning, but
// a wake-up for a `validUntil` months away is normal here: chain timers until the target time.

/** The longest delay setTimeout accepts. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface LongTimer {
  cancel(): void;
}

/** Calls `fn` at `atMs` (epoch ms) or right away if that has passed. The timers never keep the process alive. */
export function setLongTimer(atMs: number, fn: () => void, now: () => number = Date.now): LongTimer {
  let handle: NodeJS.Timeout | undefined;
  let cancelled = false;
  const arm = (): void => {
    if (cancelled) return;
    const remaining = atMs - now();
    if (remaining <= 0) {
      handle = undefined;
      fn();
      return;
    }
    handle = setTimeout(arm, Math.min(remaining, MAX_TIMEOUT_MS));
    handle.unref();
  };
  // Always go through a timer, even for 0 ms, so callers never see `fn` run inside the call.
  handle = setTimeout(arm, Math.min(Math.max(atMs - now(), 0), MAX_TIMEOUT_MS));
  handle.unref();
  return {
    cancel(): void {
      cancelled = true;
      if (handle !== undefined) clearTimeout(handle);
    },
  };
}
