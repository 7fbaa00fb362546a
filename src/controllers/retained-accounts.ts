// Accounts of deleted Users kept disabled until their retention ends (deprovision.policy
// disableThenDelete). A deleted User's finalizer goes as soon as its accounts are disabled, so
// `kubectl delete user` returns at once; the obligation to delete each account later moves to the
// ConnectedSystem's status (retainedAccounts), which only the system's controller writes:
// - the User's reconcile asks for an entry here and waits until the system's status shows it; only
//   then is the finalizer released, so the record is durable before the User goes (a restart or a
//   leader change in between just asks again: the User still holds its finalizer);
// - the system's reconcile writes what was asked into its status, keeps those accounts out of the
//   orphans, deletes each once its deleteAfter has passed (behind the deletion guard), and drops an
//   entry whose userName a User declares again (a rehire: that User's reconcile re-enables it).
import type { ConnectedSystem } from '../api/index.ts';
import type { RetainedAccount } from '../engine/index.ts';
import { keyOf, keyString } from '../store/store.ts';

export class RetainedRequests {
  readonly #asked = new Map<string, Map<string, RetainedAccount>>();

  /** A deleted User's reconcile: record this account in the system's status. */
  ask(system: ConnectedSystem, entry: RetainedAccount): void {
    const key = keyString(keyOf(system));
    const asked = this.#asked.get(key) ?? new Map<string, RetainedAccount>();
    asked.set(entry.userName, entry);
    this.#asked.set(key, asked);
  }

  /** Whether the system's status already records the account, as asked. */
  static recorded(system: ConnectedSystem, entry: RetainedAccount): boolean {
    return (system.status?.retainedAccounts ?? []).some((e) => e.userName === entry.userName && e.deleteAfter === entry.deleteAfter);
  }

  /** The system's reconcile: what was asked since, taken once (the status write that follows records it). */
  take(system: ConnectedSystem): RetainedAccount[] {
    const key = keyString(keyOf(system));
    const asked = [...(this.#asked.get(key)?.values() ?? [])];
    this.#asked.delete(key);
    return asked;
  }

  has(system: ConnectedSystem): boolean {
    return (this.#asked.get(keyString(keyOf(system)))?.size ?? 0) > 0;
  }
}

/** The system's retained accounts after adding what was asked and dropping `gone` (deleted, or declared again). */
export function mergeRetained(current: readonly RetainedAccount[], asked: readonly RetainedAccount[], gone: ReadonlySet<string>): RetainedAccount[] {
  const byName = new Map(current.map((e) => [e.userName, e]));
  for (const entry of asked) byName.set(entry.userName, entry);
  for (const userName of gone) byName.delete(userName);
  return [...byName.values()].sort((a, b) => a.userName.localeCompare(b.userName));
}
