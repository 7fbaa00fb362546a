// Timestamps in the API are RFC 3339 strings; the engine compares instants as epoch milliseconds.

/** Epoch milliseconds of an RFC 3339 timestamp, or undefined when it is unset or unreadable. */
export function instant(timestamp: string | undefined): number | undefined {
  if (timestamp === undefined) return undefined;
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Whether `now` lies in [from, until): access starts exactly at `from` and has ended exactly at `until`. */
export function within(now: number, from: number | undefined, until: number | undefined): boolean {
  return (from === undefined || from <= now) && (until === undefined || now < until);
}
