import { describe, expect, it } from 'vitest';
import { parseDate } from '../../../src/sources/dates.ts';

describe('parseDate', () => {
  it.each([
    ['2026-12-01T09:30:00Z', 'iso', 'Europe/Berlin', false, '2026-12-01T09:30:00Z'],
    ['2026-12-01T09:30:00+02:00', 'iso', 'UTC', false, '2026-12-01T07:30:00Z'],
    ['2026-12-01', 'iso', 'Europe/Berlin', false, '2026-11-30T23:00:00Z'],
    ['2026-07-01', 'yyyy-mm-dd', 'Europe/Berlin', false, '2026-06-30T22:00:00Z'],
    ['2026-12-01', 'yyyy-mm-dd', 'Europe/Berlin', true, '2026-12-01T23:00:00Z'],
    ['31.12.2026', 'dd.mm.yyyy', 'UTC', true, '2027-01-01T00:00:00Z'],
    ['01/02/2027', 'dd/mm/yyyy', 'America/New_York', false, '2027-02-01T05:00:00Z'],
    ['01/02/2027 17:45', 'mm/dd/yyyy', 'America/New_York', false, '2027-01-02T22:45:00Z'],
    ['2026-03-29 02:30', 'yyyy-mm-dd', 'Europe/Berlin', false, '2026-03-29T01:30:00Z'],
    ['2026-10-25T12:00:05', 'iso', 'Asia/Kolkata', false, '2026-10-25T06:30:05Z'],
  ] as const)('%s (%s, %s, endOfDay %s) is %s', (text, format, zone, endOfDay, expected) => {
    expect(parseDate(text, format, zone, endOfDay)).toBe(expected);
  });

  it.each([
    ['2026-02-30', 'yyyy-mm-dd', 'UTC', 'not a valid date'],
    ['next friday', 'iso', 'UTC', 'not a date in the format iso'],
    ['2026-12-01', 'dd.mm.yyyy', 'UTC', 'not a date in the format dd.mm.yyyy'],
    ['2026-12-01 25:00', 'yyyy-mm-dd', 'UTC', 'not a valid date'],
    ['2026-12-01', 'iso', 'Mars/Olympus', 'unknown time zone'],
  ] as const)('%s (%s, %s) is refused: %s', (text, format, zone, message) => {
    expect(() => parseDate(text, format, zone)).toThrow(message);
  });
});
