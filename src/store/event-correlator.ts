// Events as Kubernetes expects them, after client-go's EventCorrelator: converging ten thousand
// Users must not write tens of thousands of Event objects into etcd. Per object:
// - the same Event again (type, reason and message) is one Event whose count grows;
// - past MAX_SIMILAR different messages of one type and reason within WINDOW_MS, the rest are one
//   Event "(combined from similar events): <latest message>" whose count grows;
// - new Event objects come from a token bucket (SPAM_BURST, one more every SPAM_REFILL_MS), as
//   client-go's spam filter, one bucket per object and type; an Event refused by it is dropped (the
//   audit log keeps every change).
// A count that grows is written back at most once a second per Event (see KubeStore): the count is
// exact, the writes are bounded.
export const MAX_SIMILAR = 10;
export const WINDOW_MS = 10 * 60_000;
export const SPAM_BURST = 25;
export const SPAM_REFILL_MS = 5 * 60_000;
/** Keys remembered at most (least recently used go first), as client-go's LRU of 4096. */
export const CACHE_SIZE = 4096;
export const COMBINED_PREFIX = '(combined from similar events): ';

export interface EventSubject {
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  type: string;
  reason: string;
}

export type EventDecision =
  /** A new Event object, named `name`, with this message. */
  | { action: 'create'; name: string; message: string }
  /** The Event `name` happened again: it now counts `count`, the latest message is `message`. */
  | { action: 'count'; name: string; count: number; message: string; firstTimestamp: Date }
  /** Refused by the spam filter. */
  | { action: 'drop' };

interface Seen {
  name: string;
  count: number;
  firstTimestamp: Date;
  lastSeenMs: number;
}

interface Similar {
  since: number;
  messages: Set<string>;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A Map used as an LRU: reading an entry moves it to the end; the first is the oldest. */
class Lru<V> {
  readonly #entries = new Map<string, V>();
  readonly #size: number;
  constructor(size: number) {
    this.#size = size;
  }
  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#size) this.#entries.delete(this.#entries.keys().next().value!);
  }
  delete(key: string): void {
    this.#entries.delete(key);
  }
}

export class EventCorrelator {
  readonly #now: () => number;
  readonly #nameFor: (objectName: string) => string;
  readonly #seen = new Lru<Seen>(CACHE_SIZE);
  readonly #similar = new Lru<Similar>(CACHE_SIZE);
  readonly #buckets = new Lru<Bucket>(CACHE_SIZE);

  /** `now`: epoch milliseconds (the store's clock); `nameFor`: a fresh Event name for an object. */
  constructor(now: () => number, nameFor: (objectName: string) => string) {
    this.#now = now;
    this.#nameFor = nameFor;
  }

  decide(subject: EventSubject, message: string): EventDecision {
    const now = this.#now();
    const object = JSON.stringify([subject.kind, subject.namespace, subject.name, subject.uid ?? '']);
    const similarKey = JSON.stringify([object, subject.type, subject.reason]);
    const effective = this.#aggregate(similarKey, message, now);
    const seenKey = JSON.stringify([similarKey, effective.startsWith(COMBINED_PREFIX) ? COMBINED_PREFIX : effective]);
    const seen = this.#seen.get(seenKey);
    if (seen && now - seen.lastSeenMs < WINDOW_MS) {
      seen.count++;
      seen.lastSeenMs = now;
      return { action: 'count', name: seen.name, count: seen.count, message: effective, firstTimestamp: seen.firstTimestamp };
    }
    // A Warning (a tripped guard, a failing system) must never be starved by the routine Normal
    // Events of the same object (a system records every joiner's create): each type has its own bucket.
    if (!this.#take(JSON.stringify([object, subject.type]), now)) return { action: 'drop' };
    const name = this.#nameFor(subject.name);
    this.#seen.set(seenKey, { name, count: 1, firstTimestamp: new Date(now), lastSeenMs: now });
    return { action: 'create', name, message: effective };
  }

  /** The message as sent, or combined once MAX_SIMILAR others of its kind came within the window. */
  #aggregate(similarKey: string, message: string, now: number): string {
    let similar = this.#similar.get(similarKey);
    if (!similar || now - similar.since >= WINDOW_MS) similar = { since: now, messages: new Set() };
    this.#similar.set(similarKey, similar);
    if (similar.messages.has(message)) return message;
    if (similar.messages.size >= MAX_SIMILAR) return `${COMBINED_PREFIX}${message}`;
    similar.messages.add(message);
    return message;
  }

  /** One token of the bucket, if it has one (tokens come back continuously). */
  #take(bucketKey: string, now: number): boolean {
    const bucket = this.#buckets.get(bucketKey) ?? { tokens: SPAM_BURST, at: now };
    const tokens = Math.min(SPAM_BURST, bucket.tokens + (now - bucket.at) / SPAM_REFILL_MS);
    const allowed = tokens >= 1;
    this.#buckets.set(bucketKey, { tokens: allowed ? tokens - 1 : tokens, at: now });
    return allowed;
  }
}
