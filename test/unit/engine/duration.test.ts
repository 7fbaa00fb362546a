import { describe, expect, it } from 'vitest';
import { parseDuration, parsePeriod } from '../../../src/engine/index.ts';

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

describe('parsePeriod', () => {
  it('never goes below the floor, whatever an object admitted before the floor says', () => {
    expect(parsePeriod('1ms', '1s')).toBe(1_000);
    expect(parsePeriod('0s', '1s')).toBe(1_000);
    expect(parsePeriod('15m', '1s')).toBe(900_000);
    expect(parsePeriod('1m', '1h')).toBe(3_600_000);
  });
});
