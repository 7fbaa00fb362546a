// Per-key exponential backoff, like client-go's ItemExponentialFailureRateLimiter, with jitter so
// that many keys failing together (a connected system went down) do not all retry at the same instant.

export interface BackoffOptions {
  /** Delay after the first failure. */
  baseMs: number;
  /** The delay never exceeds this. */
  maxMs: number;
  /** Fraction of the delay taken off at random: 0.2 spreads retries over [80 %, 100 %] of the exponential delay. */
  jitter?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 5, maxMs: 300_000, jitter: 0.2 };

/**
 * The delay before retry number `failures` (1 for the first failure): baseMs * 2^(failures-1),
 * capped at maxMs, then reduced by up to `jitter` of itself. Jitter only ever shortens the delay,
 * so the cap holds.
 */
export function backoffDelay(failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  const jitter = options.jitter ?? DEFAULT_BACKOFF.jitter;
  // Clamp the exponent: 2^1024 is Infinity, and a key may fail for weeks.
  const exponential = options.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 60);
  const capped = Math.min(exponential, options.maxMs);
  return Math.round(capped * (1 - jitter * random()));
}
