// A User's account syncs, one per system, may outlive the User's reconcile. A system that answers
// slowly (latency, not failures: the circuit makes those fail fast) would otherwise hold a User
// worker for each of its Users, and the other systems' work would queue behind it: with SCIM at a
// few hundred milliseconds a request, LDAP and PostgreSQL converged 3-6x slower than on their own.
// So a reconcile waits for its syncs only so long (`patienceMs`), and for a system known to be slow
// (its syncs take over `slowMs`, on a moving average, so one slow pass does not mark it) only while
// its other, fast systems' syncs run; one still running then
// goes on by itself, the reconcile records that system as in progress, and the sync's end queues the
// User again, whose next reconcile takes the result instead of syncing again.
//
// One account is never synced twice at once: a reconcile that wants something else of an account
// whose sync is still running starts its own after that one ends.
import { RunningCount } from '../queue/running-count.ts';
import type { AccountSyncResult } from './sync-account.ts';

/** The weight of the latest sync in a system's moving average of durations. */
const SMOOTHING = 0.2;

export interface AccountSync {
  /** Settles with the sync's result; never rejects. */
  readonly result: Promise<AccountSyncResult>;
}

interface Entry {
  /** What the sync was asked (the desired account and the generations it came from). */
  wants: string;
  result: Promise<AccountSyncResult>;
  settled?: AccountSyncResult;
  /** A reconcile is waiting for it within its patience: its end need not queue the User. */
  awaited: boolean;
}

export class AccountSyncs {
  /** By User, then by system. */
  readonly #entries = new Map<string, Map<string, Entry>>();
  readonly #patienceMs: number;
  readonly #slowMs: number;
  /** Each system's moving average of a sync's duration (ms). */
  readonly #duration = new Map<string, number>();
  readonly #onDone: (user: string) => void;
  readonly #running = new RunningCount();

  /** `onDone(user)` queues the User whose sync ended after its reconcile stopped waiting. */
  constructor(options: { patienceMs: number; slowMs?: number; onDone: (user: string) => void }) {
    this.#patienceMs = options.patienceMs;
    this.#slowMs = options.slowMs ?? options.patienceMs / 4;
    this.#onDone = options.onDone;
  }

  /**
   * The sync of `user`'s account in `system` (its key, namespace/name) that delivers `wants`: a result already in for the same
   * wants, the same sync still running, or a new one (`start`), after any running for other wants.
   */
  sync(user: string, system: string, wants: string, start: () => Promise<AccountSyncResult>, failed: (error: unknown) => AccountSyncResult): AccountSync {
    const syncs = this.#entries.get(user) ?? new Map<string, Entry>();
    this.#entries.set(user, syncs);
    const current = syncs.get(system);
    if (current?.wants === wants) {
      current.awaited = true;
      return { result: current.result };
    }
    this.#running.started();
    // After the sync it replaces, if any; a first password that one delivered is kept on record.
    const before = current?.result ?? Promise.resolve(undefined);
    const outcome = before
      .then(async (earlier) => {
        const started = performance.now();
        const result = await start().catch(failed);
        const took = performance.now() - started;
        this.#duration.set(system, SMOOTHING * took + (1 - SMOOTHING) * (this.#duration.get(system) ?? 0));
        const delivery = result.delivery ?? earlier?.delivery;
        return delivery ? { ...result, delivery } : result;
      })
      .then((result) => {
        entry.settled = result;
        // A reconcile waiting for it takes it; otherwise the User is queued, before this sync stops
        // counting as running, so nothing ever looks idle in between (Manager.idle).
        if (this.#entries.get(user)?.get(system) === entry && !entry.awaited) this.#onDone(user);
        this.#running.ended();
        return result;
      });
    const entry: Entry = { wants, awaited: true, result: outcome };
    syncs.set(system, entry);
    return { result: outcome };
  }

  /**
   * Waits for the syncs up to the patience, and returns each one's result, or undefined for one
   * still running (it goes on alone). Once every one is in, the results are taken: the next
   * reconcile syncs again. While one is still running, those in are kept for the reconcile its end
   * queues, so that one has them all (taking them now would make it sync those systems again, and
   * two slow systems would keep a User in progress, each end restarting the other's sync).
   * Results of the User's other systems (no longer wanted there) are dropped.
   */
  async within(user: string, syncs: ReadonlyArray<{ system: string; sync: AccountSync }>): Promise<Array<AccountSyncResult | undefined>> {
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#patienceMs)));
    const all = Promise.all(syncs.map((s) => s.sync.result));
    // Waiting for a slow system would hold this worker from other Users' work on the fast ones. A
    // User whose systems are all slow (a backlog everywhere) waits as long as the patience allows:
    // returning at once would only cost it a second reconcile and status write.
    const fast = syncs.filter((s) => (this.#duration.get(s.system) ?? 0) <= this.#slowMs);
    const others = fast.length > 0 && fast.length < syncs.length ? Promise.all(fast.map((s) => s.sync.result)) : all;
    await Promise.race([all, others, patience]);
    clearTimeout(timer);
    const entries = this.#entries.get(user) ?? new Map<string, Entry>();
    const asked = new Set(syncs.map((s) => s.system));
    for (const [system, entry] of entries) if (!asked.has(system) && entry.settled) entries.delete(system);
    const results = syncs.map(({ system }) => {
      const entry = entries.get(system);
      if (entry?.settled === undefined && entry) entry.awaited = false;
      return entry?.settled;
    });
    if (results.every((r) => r !== undefined)) for (const { system } of syncs) entries.delete(system);
    if (entries.size === 0) this.#entries.delete(user);
    return results;
  }

  /** Whether a sync of one of the User's accounts is running or has a result not yet taken. */
  busy(user: string): boolean {
    return (this.#entries.get(user)?.size ?? 0) > 0;
  }

  /** A User that is gone: results nobody will take are dropped (a running sync still ends on its own). */
  forget(user: string): void {
    const entries = this.#entries.get(user);
    if (!entries) return;
    for (const [system, entry] of entries) if (entry.settled) entries.delete(system);
    if (entries.size === 0) this.#entries.delete(user);
  }

  /** Syncs running now. */
  get running(): number {
    return this.#running.value;
  }

  /** Resolves once no sync is running. */
  idle(): Promise<void> {
    return this.#running.idle();
  }
}
