// Which scim IdentitySource a bearer token belongs to, without reading every source's Secret on
// every request: with 300 sources that was 600 Secret GETs per request, bogus tokens included, and
// every tenant's latency paid for it. The index maps the SHA-256 of each source's token to the
// source. It is filled when a scim source appears or changes, and swept in the background (Rollcall
// may only `get` Secrets, not watch them), so a request costs O(1) API calls whatever the number of
// sources: an unknown token none, a known one a single re-read of its own Secret, which catches a
// revoked or rotated token at once. A token rotated to a new value is accepted from the next sweep.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { IdentitySource } from '../api/index.ts';
import type { Clock, Timer } from '../clock/clock.ts';
import { keyOf, keyString, type Store } from '../store/store.ts';
import { sourceCredentials } from '../feeds/source-feed.ts';

/** How often every scim source's Secret is read again, to learn rotated tokens. */
export const SWEEP_MS = 60_000;

const digest = (text: string) => createHash('sha256').update(text).digest();

const isScim = (source: IdentitySource | undefined): source is IdentitySource =>
  source !== undefined && source.spec.type === 'scim' && source.spec.credentialsSecretRef !== undefined && source.metadata.deletionTimestamp === undefined;

export class ScimTokenIndex {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #clock: Clock;
  /** Hex SHA-256 of a token → "namespace/name" of its source. */
  readonly #byDigest = new Map<string, string>();
  /** "namespace/name" → the hex digest indexed for it. */
  readonly #bySource = new Map<string, string>();
  #unwatch: (() => void) | undefined;
  #timer: Timer | undefined;
  #ready: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(store: Store, log: Logger, clock: Clock) {
    this.#store = store;
    this.#log = log;
    this.#clock = clock;
  }

  /** Indexes every scim source now, then follows their changes and sweeps every SWEEP_MS. */
  start(): void {
    this.#unwatch = this.#store.watch('IdentitySource', (event, source, old) => {
      if (event === 'delete' || !isScim(source)) this.#forget(keyString(keyOf(source)));
      // A status write changes nothing here: only a new source or another Secret is read at once.
      else if (!isScim(old) || old.spec.credentialsSecretRef!.name !== source.spec.credentialsSecretRef!.name) void this.#index(source);
    });
    this.#ready = this.#sweep();
  }

  stop(): void {
    this.#stopped = true;
    this.#unwatch?.();
    this.#timer?.cancel();
  }

  /** The scim source whose Secret holds this token, or undefined. */
  async sourceFor(token: string): Promise<IdentitySource | undefined> {
    await this.#ready;
    const presented = digest(token);
    const id = this.#byDigest.get(presented.toString('hex'));
    if (id === undefined) return undefined;
    const [namespace, name] = [id.slice(0, id.indexOf('/')), id.slice(id.indexOf('/') + 1)];
    const source = this.#store.get('IdentitySource', { namespace, name });
    if (!isScim(source)) {
      this.#forget(id);
      return undefined;
    }
    // The one read of a request: the token may have been revoked or rotated since it was indexed.
    const current = await this.#index(source);
    return current !== undefined && timingSafeEqual(current, presented) ? source : undefined;
  }

  /** Reads the source's token and indexes it; returns its digest, or undefined when it has none. */
  async #index(source: IdentitySource): Promise<Buffer | undefined> {
    const id = keyString(keyOf(source));
    const secret = await sourceCredentials(this.#store, source).catch((error: unknown) => {
      this.#log.warn({ source: id, err: (error as Error).message }, 'scim source has no usable token');
      return undefined;
    });
    const token = secret?.token?.trim();
    this.#forget(id);
    if (!token) return undefined;
    const value = digest(token);
    const hex = value.toString('hex');
    const holder = this.#byDigest.get(hex);
    // Two sources with one token: the one indexed first keeps it, as the first match did before.
    if (holder !== undefined && holder !== id) {
      this.#log.warn({ source: id, other: holder }, 'two scim sources share a token; this one is not served until one of them changes it');
      return undefined;
    }
    this.#byDigest.set(hex, id);
    this.#bySource.set(id, hex);
    return value;
  }

  #forget(id: string): void {
    const hex = this.#bySource.get(id);
    if (hex === undefined) return;
    this.#bySource.delete(id);
    if (this.#byDigest.get(hex) === id) this.#byDigest.delete(hex);
  }

  async #sweep(): Promise<void> {
    const scim = this.#store.list('IdentitySource').filter(isScim);
    const live = new Set(scim.map((source) => keyString(keyOf(source))));
    for (const id of [...this.#bySource.keys()]) if (!live.has(id)) this.#forget(id);
    for (const source of scim) {
      if (this.#stopped) return;
      await this.#index(source);
    }
    if (!this.#stopped) this.#timer = this.#clock.setTimer(new Date(this.#clock.now().getTime() + SWEEP_MS), () => void this.#sweep());
  }
}
