// Between two listings a system reconcile only keeps the guard's condition current, and the guard
// counts the orphans the next listing would act on. Counting them afresh meant a walk over every
// account and every User per reconcile, and a burst of leavers wakes the system once per leaver.
// This keeps, per system, the accounts in the listing cache that no User names, brought up to date
// by what changed since (a User replaced or added in the store's list, an account written through
// or doubted: ObservedCache.changesSince); afresh after a listing, a User gone, or a renamed one.
import type { ObservedAccount, User } from '../api/index.ts';
import { changedPositions } from '../api/index.ts';
import type { ObservedCache, ObservedMark } from './observed-cache.ts';

interface Kept {
  users: readonly User[];
  /** How many of `users` name each userName (two Users may claim one). */
  named: Map<string, number>;
  undeclared: Map<string, ObservedAccount>;
  observed: ObservedMark;
}

export class UndeclaredAccounts {
  readonly #kept = new Map<string, Kept>();

  /** The system's cached accounts that none of `users` (its namespace's) names. */
  of(observed: ObservedCache, system: string, users: readonly User[]): ObservedAccount[] {
    const kept = this.#kept.get(system);
    const changes = observed.changesSince(system, kept?.observed);
    const next = kept && changes.names ? updated(kept, users, changes.names, observed.accountsByName(system)) : undefined;
    const result = next ?? afresh(users, observed.accountsByName(system));
    this.#kept.set(system, { ...result, observed: changes.mark });
    return [...result.undeclared.values()];
  }

  forget(system: string): void {
    this.#kept.delete(system);
  }
}

function afresh(users: readonly User[], accounts: ReadonlyMap<string, ObservedAccount> | undefined): Omit<Kept, 'observed'> {
  const named = new Map<string, number>();
  for (const user of users) named.set(user.spec.userName, (named.get(user.spec.userName) ?? 0) + 1);
  const undeclared = new Map<string, ObservedAccount>();
  for (const [userName, account] of accounts ?? []) if (!named.has(userName)) undeclared.set(userName, account);
  return { users, named, undeclared };
}

/** `kept` brought up to date, or undefined when the Users' positions no longer line up (one went). */
function updated(
  kept: Kept,
  users: readonly User[],
  changedNames: readonly string[],
  accounts: ReadonlyMap<string, ObservedAccount> | undefined,
): Omit<Kept, 'observed'> | undefined {
  const positions = changedPositions(kept.users, users);
  if (!positions) return undefined;
  const { named, undeclared } = kept;
  const recheck = new Set(changedNames);
  for (const position of positions) {
    const before = kept.users[position]?.spec.userName;
    const after = users[position]!.spec.userName;
    if (before === after) continue;
    if (before !== undefined) {
      const left = named.get(before)! - 1;
      if (left) named.set(before, left);
      else named.delete(before);
      recheck.add(before);
    }
    named.set(after, (named.get(after) ?? 0) + 1);
    recheck.add(after);
  }
  for (const userName of recheck) {
    const account = accounts?.get(userName);
    if (account && !named.has(userName)) undeclared.set(userName, account);
    else undeclared.delete(userName);
  }
  return { users, named, undeclared };
}
