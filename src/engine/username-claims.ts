// Two Users of one namespace may name the same userName (a typo, a rehire written twice). One
// account cannot serve both: the oldest User holds the name, and the others are refused with a
// Conflict until it is gone, so one person leaving never keeps another's access alive or ends it.
import { changedPositions, isUnchanging, neverChanges, type User } from '../api/index.ts';

/** Oldest first: creationTimestamp, then name, so every reader picks the same holder. */
function older(a: User, b: User): boolean {
  const at = (u: User) => u.metadata.creationTimestamp ?? '';
  return at(a) === at(b) ? a.metadata.name < b.metadata.name : at(a) < at(b);
}

/** userName → the User that holds it among `users` (one namespace). */
export function userNameHolders(users: readonly User[]): Map<string, User> {
  const holders = new Map<string, User>();
  for (const user of users) {
    const holder = holders.get(user.spec.userName);
    if (!holder || older(user, holder)) holders.set(user.spec.userName, user);
  }
  return holders;
}

/** The User that holds this User's userName, when it is another one. */
export function userNameTakenBy(user: User, users: readonly User[]): User | undefined {
  let holder = user;
  for (const other of users) if (other.spec.userName === user.spec.userName && older(other, holder)) holder = other;
  return holder === user ? undefined : holder;
}

/**
 * Only the Users that hold their userName: the others get no account anywhere. Kept per list when
 * the list never changes (the stores hand out one per namespace until a User changes): the deletion
 * guard asks for it on every decision, and at ten thousand Users that is not free. A new list that
 * is the namespace's last one with Users replaced in place (a status write, a leaver) is derived
 * from that one's answer: the same claims, so the same holders, only the newer objects.
 */
export function holdingUsers(users: readonly User[]): readonly User[] {
  const known = holding.get(users);
  if (known) return known.result;
  const namespace = users[0]?.metadata.namespace ?? '';
  const held = derived(lastHeld.get(namespace), users) ?? heldAmong(users);
  if (isUnchanging(users)) {
    holding.set(users, held);
    lastHeld.set(namespace, held);
  }
  return held.result;
}

interface Held {
  users: readonly User[];
  result: readonly User[];
  /** Per position in `users`, its position in `result` (-1: not a holder). */
  at: readonly number[];
}
const holding = new WeakMap<readonly User[], Held>();
/** The last list seen per namespace: the next one usually differs from it in a User or two. */
const lastHeld = new Map<string, Held>();

function heldAmong(users: readonly User[]): Held {
  const holders = userNameHolders(users);
  const result: User[] = [];
  const at = users.map((user) => (holders.get(user.spec.userName) === user ? result.push(user) - 1 : -1));
  return { users, result: neverChanges(result), at };
}

/** `users` as `last.users` with Users replaced in place by newer versions of themselves, else undefined. */
function derived(last: Held | undefined, users: readonly User[]): Held | undefined {
  if (!last || last.users.length !== users.length) return undefined;
  const changed = changedPositions(last.users, users);
  if (!changed) return undefined;
  const result = last.result.slice();
  for (const i of changed) {
    const before = last.users[i]!;
    const after = users[i]!;
    // Another claim (a new userName, a recreated User): the holders may differ.
    if (
      before.metadata.uid !== after.metadata.uid ||
      before.metadata.name !== after.metadata.name ||
      before.spec.userName !== after.spec.userName ||
      before.metadata.creationTimestamp !== after.metadata.creationTimestamp
    )
      return undefined;
    const position = last.at[i]!;
    if (position >= 0) result[position] = after;
  }
  return { users, result: neverChanges(result), at: last.at };
}
