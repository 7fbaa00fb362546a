// A seeded pseudo-random generator for tests: the same seed replays the same kill points and the
// same joiners, movers and leavers of a fault test, or the same walk of a random-walk unit test. mulberry32 (public domain, a dozen lines) is enough here: the
// point is reproducibility, not quality; no npm package is worth a dependency for it.
import { randomInt } from 'node:crypto';

export interface SeededRandom {
  readonly seed: number;
  /** In [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  between(min: number, max: number): number;
  /** `count` distinct elements of `from`, in random order. */
  pick<T>(from: readonly T[], count: number): T[];
}

/** The seed from `envVar` when set (to replay a run), else a fresh one. */
export function seededRandom(envVar: string): SeededRandom {
  const given = process.env[envVar];
  return seededRandomFrom(given ? Number(given) >>> 0 : randomInt(2 ** 31));
}

/** The generator for `seed`: the same numbers on every run. */
export function seededRandomFrom(seed: number): SeededRandom {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const between = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(from: readonly T[], count: number): T[] => {
    const copy = [...from];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy.slice(0, count);
  };
  return { seed, next, between, pick };
}
