// Small helpers: a fixed number of workers over a list, percentiles, sleeping, a stopwatch.
import { performance } from 'node:perf_hooks';

export async function eachLimit<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const now = () => performance.now();

/**
 * The pause between two polls of the systems while a latency is measured: short against the
 * 1 s targets, long enough that the probe does not take the 2 cores Rollcall and the servers share
 * (polling 100 names back to back made the benchmark itself the busiest process of a burst).
 */
export const PROBE_PAUSE_MS = 5;

/** Nearest-rank percentile of `values` (p in 0..100); NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summary(ms: number[]): { n: number; p50: number; p95: number; p99: number; max: number } {
  return { n: ms.length, p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), max: ms.length ? Math.max(...ms) : Number.NaN };
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns whether it succeeded. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, intervalMs: number): Promise<boolean> {
  const deadline = now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (now() > deadline) return false;
    await sleep(intervalMs);
  }
}
