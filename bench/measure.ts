// Timing with node:perf_hooks: a few warm-up runs (JIT, caches), then the median of the samples.
import { performance } from 'node:perf_hooks';

export interface Samples {
  /** Milliseconds, one per measured iteration. */
  ms: number[];
  median: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `run` returns how long the part worth measuring took, when it times itself (setup excluded). */
export async function measure(iterations: number, warmup: number, run: () => Promise<number | void> | number | void): Promise<Samples> {
  const ms: number[] = [];
  for (let i = 0; i < warmup + iterations; i++) {
    const start = performance.now();
    const timed = await run();
    const elapsed = typeof timed === 'number' ? timed : performance.now() - start;
    if (i >= warmup) ms.push(elapsed);
  }
  return { ms, median: median(ms) };
}

export function formatMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${ms.toFixed(0)} ms`;
  if (ms >= 0.1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(1)} µs`;
}

/** A row of the results table. */
export interface Row {
  benchmark: string;
  case: string;
  median: string;
  detail: string;
}
