// The one clock. Everything that reads the date or waits for an instant (engine inputs, the work
// queue's wake-ups and retries, the deletion guard's window, conditions, status times, leases)
// goes through a Clock, so a test that injects one sees every part obey it. A lint rule forbids
// `Date.now()` and `new Date()` everywhere else. I/O timeouts measure elapsed time with the
// monotonic `performance.now()` instead: they are durations, not dates.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): Date;
  /**
   * Calls `fn` once this clock reads `at` or later: never inside the call, at once (on a later tick)
   * when `at` has passed. Timers never keep the process alive.
   */
  setTimer(at: Date, fn: () => void): Timer;
}

/** The longest delay setTimeout accepts; it fires at once for longer ones, with only a warning. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Real time. A wake-up for a `validUntil` months away is normal, so long waits chain timers. */
export const systemClock: Clock = {
  now: () => new Date(Date.now()), // the one place that reads the wall clock
  setTimer: (at, fn) => setRealTimer(at.getTime(), fn, () => Date.now()),
};

/** Calls `fn` when `now()` reaches `atMs`, re-checking after each (at most ~24.8-day) slice. */
function setRealTimer(atMs: number, fn: () => void, now: () => number): Timer {
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
  handle = setTimeout(arm, Math.min(Math.max(atMs - now(), 0), MAX_TIMEOUT_MS));
  handle.unref();
  return {
    cancel(): void {
      cancelled = true;
      if (handle !== undefined) clearTimeout(handle);
    },
  };
}

/**
 * A clock for tests and dry runs, on any date. Frozen by default: time moves only through `set()`
 * and `advance()`, which fire the timers that became due. With `flowing: true` it runs at real
 * speed from `start` (and can still jump), so real-time waits such as retries also happen.
 */
export class TestClock implements Clock {
  #baseMs: number;
  /** performance.now() when #baseMs was set, for a flowing clock. */
  #baseAt = performance.now();
  readonly #flowing: boolean;
  readonly #timers = new Set<{ atMs: number; fn: () => void; real?: Timer }>();

  constructor(start: Date, options: { flowing?: boolean } = {}) {
    this.#baseMs = start.getTime();
    this.#flowing = options.flowing ?? false;
  }

  now(): Date {
    return new Date(this.#nowMs());
  }

  setTimer(at: Date, fn: () => void): Timer {
    const timer: { atMs: number; fn: () => void; real?: Timer } = { atMs: at.getTime(), fn };
    this.#timers.add(timer);
    this.#arm(timer);
    return {
      cancel: () => {
        timer.real?.cancel();
        this.#timers.delete(timer);
      },
    };
  }

  /** Moves the clock to `at` (forwards or backwards) and fires what became due. */
  set(at: Date): void {
    this.#baseMs = at.getTime();
    this.#baseAt = performance.now();
    for (const timer of this.#timers) {
      timer.real?.cancel();
      this.#arm(timer);
    }
  }

  advance(ms: number): void {
    this.set(new Date(this.#nowMs() + ms));
  }

  /** Timers not yet fired, for tests that check nothing is left waiting (or spinning). */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  #nowMs(): number {
    return this.#flowing ? this.#baseMs + (performance.now() - this.#baseAt) : this.#baseMs;
  }

  #arm(timer: { atMs: number; fn: () => void; real?: Timer }): void {
    const fire = () => {
      if (!this.#timers.delete(timer)) return;
      timer.fn();
    };
    if (timer.atMs <= this.#nowMs()) {
      timer.real = setRealTimer(0, fire, () => 0);
    } else if (this.#flowing) {
      timer.real = setRealTimer(timer.atMs, fire, () => this.#nowMs());
    } else {
      timer.real = undefined;
    }
  }
}
