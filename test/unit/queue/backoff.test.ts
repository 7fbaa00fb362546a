import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelay } from '../../../src/queue/backoff.ts';

describe('backoffDelay', () => {
  it('doubles from the base delay and stops at the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { baseMs: 5, maxMs: 100, jitter: 0 }));
    expect(delays).toEqual([5, 10, 20, 40, 80, 100]);
  });

  it('defaults to 5 ms doubling up to 5 minutes', () => {
    expect(backoffDelay(1, DEFAULT_BACKOFF, () => 0)).toBe(5);
    expect(backoffDelay(100, DEFAULT_BACKOFF, () => 0)).toBe(300_000);
    // A key failing for weeks must not overflow to Infinity or NaN.
    expect(backoffDelay(1e9, DEFAULT_BACKOFF, () => 0)).toBe(300_000);
  });

  it('keeps jittered delays within [1 - jitter, 1] of the exponential delay, cap included', () => {
    for (let i = 0; i <= 100; i++) {
      const random = () => i / 100;
      const early = backoffDelay(4, { baseMs: 100, maxMs: 60_000, jitter: 0.2 }, random);
      expect(early).toBeGreaterThanOrEqual(640);
      expect(early).toBeLessThanOrEqual(800);
      const capped = backoffDelay(30, { baseMs: 100, maxMs: 60_000, jitter: 0.2 }, random);
      expect(capped).toBeGreaterThanOrEqual(48_000);
      expect(capped).toBeLessThanOrEqual(60_000);
    }
  });

  it('spreads retries when jitter comes from Math.random', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(10, { baseMs: 5, maxMs: 300_000 })));
    expect(delays.size).toBeGreaterThan(10);
  });
});
