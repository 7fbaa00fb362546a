// Durations as users write them in specs (90s, 15m, 1h30m, 7d), turned into milliseconds.
import { DURATION_FLOORS, DURATION_PATTERN } from '../api/index.ts';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const WHOLE = new RegExp(DURATION_PATTERN);
// `ms` comes before `m` so that "500ms" is not read as 500 minutes followed by "s".
const PART = /([0-9]+)(ms|s|m|h|d)/g;

/** Milliseconds in a duration such as 90s, 15m, 12h, 7d, 1h30m or 500ms. Throws on anything else. */
export function parseDuration(text: string): number {
  if (!WHOLE.test(text)) {
    throw new Error(`"${text}" is not a duration: write it like 30s, 15m, 12h, 7d or 1h30m`);
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit!]!;
  }
  return total;
}

/**
 * A tenant's loop period (spec.interval, spec.resyncInterval, spec.schedule) in milliseconds, never
 * below its floor. The schema refuses less; this holds for objects admitted before the floor (or
 * loaded without the API server), so one tenant's object cannot make the controller spin.
 */
export function parsePeriod(text: string, floor: keyof typeof DURATION_FLOORS): number {
  return Math.max(parseDuration(text), DURATION_FLOORS[floor]);
}
