// What each system held at its last full listing, updated as changes are applied (write-through),
// so a user's reconcile needs no remote read for what the resync already knows.
import type { ObservedAccount } from '../api/index.ts';

/** Where a reader stands in a system's log of changed accounts (changesSince). */
export interface ObservedMark {
  epoch: number;
  seen: number;
}

/** A log longer than this starts over: its readers then look at every account once, as after a listing. */
const LOG_LIMIT = 100_000;

/** Epochs are unique across caches, so a mark taken from one cache never passes for another's. */
let epochs = 0;

export class ObservedCache {
  readonly #bySystem = new Map<string, Map<string, ObservedAccount>>();
  /** The last write-through per system and user, with its sequence number to order it against listings. */
  readonly #written = new Map<string, Map<string, { sequence: number; account: ObservedAccount | null }>>();
  #sequence = 0;
  /** The sequence number of each system's latest write-through. */
  readonly #lastWrite = new Map<string, number>();
  /** Accounts whose cached state is in doubt, per system, until the next write-through or listing. */
  readonly #unknown = new Map<string, Set<string>>();
  /**
   * Every userName each system held at its last listing, whoever's (Connector.listUserNames); absent
   * for a system whose connector cannot tell.
   */
  readonly #names = new Map<string, ReadonlySet<string>>();
  /** Orphans found at each system's last listing, so only new ones are announced. */
  readonly #orphans = new Map<string, Set<string>>();
  /**
   * Per system, the userNames whose cached account changed since its last listing, in order: a
   * reader that keeps something per account (the deletion guard) looks again at those alone. A
   * listing or a forget starts a new epoch: then every account may have changed.
   */
  readonly #logs = new Map<string, { epoch: number; names: string[] }>();

  /**
   * The userNames whose account in the system changed since `mark` (undefined: any may have, the
   * system was listed or forgotten since, or there is no mark), and the mark to pass next time.
   */
  changesSince(system: string, mark: ObservedMark | undefined): { names: readonly string[] | undefined; mark: ObservedMark } {
    const log = this.#log(system);
    const next = { epoch: log.epoch, seen: log.names.length };
    return { names: mark?.epoch === log.epoch ? log.names.slice(mark.seen) : undefined, mark: next };
  }

  #log(system: string): { epoch: number; names: string[] } {
    let log = this.#logs.get(system);
    if (!log) {
      log = { epoch: ++epochs, names: [] };
      this.#logs.set(system, log);
    }
    return log;
  }

  #changed(system: string, userName: string): void {
    const log = this.#log(system);
    if (log.names.length >= LOG_LIMIT) this.#logs.delete(system);
    else log.names.push(userName);
  }

  /** Records this listing's orphans; returns those the previous listing did not have. */
  updateOrphans(system: string, userNames: string[]): string[] {
    const before = this.#orphans.get(system) ?? new Set<string>();
    this.#orphans.set(system, new Set(userNames));
    return userNames.filter((name) => !before.has(name));
  }

  /** Call before listing a system; pass the result to replace(). */
  beginListing(): number {
    return ++this.#sequence;
  }

  /**
   * Replaces a system's accounts after a full listing that began at `listingStarted`. An account
   * written through while the listing ran is newer than what the listing saw, so it is kept.
   */
  replace(system: string, accounts: ObservedAccount[], listingStarted: number, userNames?: ReadonlySet<string>): void {
    const next = new Map(accounts.map((a) => [a.userName, a]));
    const written = this.#written.get(system) ?? new Map();
    for (const [userName, { sequence, account }] of written) {
      // Older than this listing: the listing has it. Kept only while a listing could still miss it.
      if (sequence <= listingStarted) {
        written.delete(userName);
        continue;
      }
      if (account) next.set(userName, account);
      else next.delete(userName);
    }
    this.#bySystem.set(system, next);
    this.#logs.delete(system);
    this.#unknown.delete(system);
    if (userNames) this.#names.set(system, userNames);
    else this.#names.delete(system);
  }

  /**
   * Whether an account of this name may exist beside the managed ones the cache holds (another
   * system's, legacy-marked, unmarked): yes, unless the last listing saw every name in the system and
   * not this one. A name deleted since is still "may exist": only a read tells.
   */
  mayExistOutsideScope(system: string, userName: string): boolean {
    const names = this.#names.get(system);
    return names === undefined || names.has(userName);
  }

  has(system: string): boolean {
    return this.#bySystem.has(system);
  }

  /** undefined: unknown (no listing yet, or invalidated); null: known to be absent. */
  get(system: string, userName: string): ObservedAccount | null | undefined {
    const accounts = this.#bySystem.get(system);
    if (!accounts || this.#unknown.get(system)?.has(userName)) return undefined;
    return accounts.get(userName) ?? null;
  }

  /** One account's state is in doubt (a change to it failed halfway): read it afresh next time. */
  invalidate(system: string, userName: string): void {
    const unknown = this.#unknown.get(system) ?? new Set<string>();
    unknown.add(userName);
    this.#unknown.set(system, unknown);
    this.#changed(system, userName);
  }

  /** The sequence number of the latest listing begun or write made, anywhere: pass it to writtenSince later. */
  sequence(): number {
    return this.#sequence;
  }

  /** Something was written through to the system after `sequence` (a write made by this process). */
  writtenSince(system: string, sequence: number): boolean {
    return (this.#lastWrite.get(system) ?? 0) > sequence;
  }

  set(system: string, userName: string, account: ObservedAccount | null): void {
    const written = this.#written.get(system) ?? new Map<string, { sequence: number; account: ObservedAccount | null }>();
    written.set(userName, { sequence: ++this.#sequence, account });
    this.#lastWrite.set(system, this.#sequence);
    this.#written.set(system, written);
    this.#unknown.get(system)?.delete(userName);
    this.#changed(system, userName);
    const accounts = this.#bySystem.get(system);
    if (!accounts) return;
    if (account) accounts.set(userName, account);
    else accounts.delete(userName);
  }

  /**
   * The account was written through since the system's last listing began: its User's status may
   * not show that write yet, so a difference between the two is this process's, not drift.
   */
  writtenSinceListing(system: string, userName: string): boolean {
    return this.#written.get(system)?.has(userName) ?? false;
  }

  /** The system's cached accounts by userName, as they stand (not a copy: read, never keep). */
  accountsByName(system: string): ReadonlyMap<string, ObservedAccount> | undefined {
    return this.#bySystem.get(system);
  }

  accounts(system: string): ObservedAccount[] {
    return [...(this.#bySystem.get(system)?.values() ?? [])];
  }

  forget(system: string): void {
    this.#bySystem.delete(system);
    this.#logs.delete(system);
    this.#names.delete(system);
  }
}
