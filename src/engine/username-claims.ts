// Two Users of one namespace may name the same userName (a typo, a rehire written twice). One
// account cannot serve both: the oldest User holds the name, and the others are refused with a
// Conflict until it is gone, so one person leaving never keeps another's access alive or ends it.
import { isUnchanging, neverChanges, type User } from '../api/index.ts';

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
 * guard asks for it on every decision, and at ten thousand Users that is not free.
 */
export function holdingUsers(users: readonly User[]): readonly User[] {
  const known = holding.get(users);
  if (known) return known;
  const holders = userNameHolders(users);
  const result = neverChanges(users.filter((user) => holders.get(user.spec.userName) === user));
  if (isUnchanging(users)) holding.set(users, result);
  return result;
}
const holding = new WeakMap<readonly User[], readonly User[]>();
