// One record of a feed, whatever its format, and why a record was turned away.

/** A record as read: where it is in the feed (for a person) and its fields' raw values. */
export interface FeedRecord {
  /** "line 7", "record 3", the DN of an entry. */
  ref: string;
  fields: Record<string, unknown>;
  /** For CSV: the header's columns, so a missing column is told apart from an empty value. */
  columns?: readonly string[];
}

export interface Rejection {
  /** The record's id when it has one, else its ref. */
  record: string;
  field?: string;
  reason: string;
}

/** The feed as a whole cannot be read: nothing is created, changed or terminated. */
export class FeedError extends Error {}

/** Keeps the first `limit` rejections and counts the rest, so status stays small. */
export class Rejections {
  readonly first: Rejection[] = [];
  count = 0;
  readonly limit: number;
  constructor(limit = 20) {
    this.limit = limit;
  }
  add(rejection: Rejection): void {
    this.count++;
    if (this.first.length < this.limit) this.first.push(rejection);
  }
}
