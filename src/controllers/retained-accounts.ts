// Accounts of deleted Users kept disabled until their retention ends (deprovision.policy
// disableThenDelete). A deleted User's finalizer goes as soon as its accounts are disabled, so
// `kubectl delete user` returns at once; the obligation to delete each account later moves to the
// ConnectedSystem's status (retainedAccounts), which only the system's controller writes:
// - the User's reconcile writes its disabled account into its own status, wakes the system, and waits
//   until the system's status shows the entry (engine retentionEntry); only then is the finalizer
//   released, so the record is durable before the User goes (a restart or a leader change in between
//   changes nothing: the User still holds its finalizer, and its status still asks);
// - the system's reconcile reads what its deleted Users ask off their status (the ask travels in
//   status, not in memory) and writes it into its own, keeps those accounts out of the
//   orphans, deletes each once its deleteAfter has passed (behind the deletion guard), and drops an
//   entry whose userName a User declares again (a rehire: that User's reconcile re-enables it).
import type { RetainedAccount } from '../engine/index.ts';

/** Whether the entries (a system's status.retainedAccounts) record the account as asked. */
export function isRecorded(entries: readonly RetainedAccount[], entry: RetainedAccount): boolean {
  return entries.some((e) => e.userName === entry.userName && e.deleteAfter === entry.deleteAfter);
}

/** The system's retained accounts after adding what was asked and dropping `gone` (deleted, or declared again). */
export function mergeRetained(current: readonly RetainedAccount[], asked: readonly RetainedAccount[], gone: ReadonlySet<string>): RetainedAccount[] {
  const byName = new Map(current.map((e) => [e.userName, e]));
  for (const entry of asked) byName.set(entry.userName, entry);
  for (const userName of gone) byName.delete(userName);
  return [...byName.values()].sort((a, b) => a.userName.localeCompare(b.userName));
}
