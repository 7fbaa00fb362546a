// Facts a connector learnt from its server a moment ago (where an LDAP entry lives, that a role is
// managed), trusted for a short while only, so that what someone else renames, deletes or unmarks
// is noticed again soon. A create followed by its grants is the case this serves: the grants need no
// read of the account that was just created.
import { performance } from 'node:perf_hooks';

/** How long a fact is trusted. About one reconcile of one user; far shorter than a resync interval. */
export const TRUST_MS = 60_000;

export class Recent<V> {
  readonly #ttlMs: number;
  /** Monotonic milliseconds; a test passes its own. */
  readonly #now: () => number;
  /** In insertion order, which is expiry order: set() moves a key to the end. */
  readonly #entries = new Map<string, { value: V; until: number }>();

  constructor(ttlMs = TRUST_MS, now: () => number = () => performance.now()) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until >= this.#now()) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    this.#sweep();
    this.#entries.delete(key);
    this.#entries.set(key, { value, until: this.#now() + this.#ttlMs });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops what has expired from the front, so a long listing does not keep every entry forever. */
  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.until >= now) return;
      this.#entries.delete(key);
    }
  }
}
