// Dates as HR systems write them, in the time zone they mean, to the instant a User's validFrom or
// validUntil holds. No library: Intl knows every IANA zone and its daylight-saving rules.

export type DateFormat = 'iso' | 'yyyy-mm-dd' | 'dd.mm.yyyy' | 'dd/mm/yyyy' | 'mm/dd/yyyy';

const PATTERNS: Record<Exclude<DateFormat, 'iso'>, { re: RegExp; order: ['y' | 'm' | 'd', 'y' | 'm' | 'd', 'y' | 'm' | 'd'] }> = {
  'yyyy-mm-dd': { re: /^(\d{4})-(\d{1,2})-(\d{1,2})/, order: ['y', 'm', 'd'] },
  'dd.mm.yyyy': { re: /^(\d{1,2})\.(\d{1,2})\.(\d{4})/, order: ['d', 'm', 'y'] },
  'dd/mm/yyyy': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})/, order: ['d', 'm', 'y'] },
  'mm/dd/yyyy': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})/, order: ['m', 'd', 'y'] },
};
const TIME = /^(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

/** A date with an explicit offset or Z: the instant it names. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses `text` to an RFC 3339 UTC timestamp (whole seconds), or throws an Error saying why.
 * A date without a time is the start of that day in `timeZone`, or with `endOfDay` the start of the
 * next one (a last working day ends when it is over).
 */
export function parseDate(text: string, format: DateFormat, timeZone: string, endOfDay = false): string {
  const value = text.trim();
  if (!isValidTimeZone(timeZone)) throw new Error(`unknown time zone ${timeZone}`);
  if (format === 'iso' && ISO_WITH_OFFSET.test(value)) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new Error(`"${value}" is not a date`);
    return toTimestamp(ms);
  }
  const pattern = PATTERNS[format === 'iso' ? 'yyyy-mm-dd' : format];
  const match = pattern.re.exec(value);
  if (!match) throw new Error(`"${value}" is not a date in the format ${format}`);
  const time = TIME.exec(value.slice(match[0].length));
  if (!time) throw new Error(`"${value}" is not a date in the format ${format}`);
  const parts = { y: 0, m: 0, d: 0 };
  pattern.order.forEach((part, index) => (parts[part] = Number(match[index + 1])));
  const [hour, minute, second] = [Number(time[1] ?? 0), Number(time[2] ?? 0), Number(time[3] ?? 0)];
  const dateOnly = time[1] === undefined;
  const utc = Date.UTC(parts.y, parts.m - 1, parts.d, hour, minute, second);
  const check = new Date(utc);
  if (check.getUTCFullYear() !== parts.y || check.getUTCMonth() !== parts.m - 1 || check.getUTCDate() !== parts.d || hour > 23 || minute > 59 || second > 59) {
    throw new Error(`"${value}" is not a valid date`);
  }
  const wall = dateOnly && endOfDay ? Date.UTC(parts.y, parts.m - 1, parts.d + 1) : utc;
  return toTimestamp(zonedToUtc(wall, timeZone));
}

/** The instant at which clocks in `timeZone` show the wall time `wallMs` (read as if UTC). */
function zonedToUtc(wallMs: number, timeZone: string): number {
  // Two rounds settle the offset across a daylight-saving change.
  let guess = wallMs - offsetMs(wallMs, timeZone);
  guess = wallMs - offsetMs(guess, timeZone);
  return guess;
}

/** How far `timeZone`'s clocks are ahead of UTC at the instant `ms`. */
function offsetMs(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

export function toTimestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
