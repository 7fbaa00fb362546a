import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/engine/index.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['15m', 900_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
    ['1m500ms', 60_500],
    ['0s', 0],
  ])('%s → %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', '1w', '1.5h', '-1h', 'h', '1h 30m'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });
});
