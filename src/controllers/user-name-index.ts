// The Users of each namespace by userName, kept current from the store's watch, so finding who else
// names a userName (oldest wins, see engine/username-claims.ts) is one lookup per reconcile, not a
// pass over every User: at 10,000 Users that pass made a cold start quadratic.
import type { User } from '../api/index.ts';
import { keyOf, keyString, type ObjectKey, type Store } from '../store/store.ts';

export class UserNameIndex {
  readonly #byName = new Map<string, Map<string, ObjectKey>>();
  readonly #nameOf = new Map<string, string>();

  /** Records a User as it is now; `undefined` for one that is gone. */
  update(key: ObjectKey, user: User | undefined): void {
    const id = keyString(key);
    const before = this.#nameOf.get(id);
    const after = user && `${key.namespace}\u0000${user.spec.userName}`;
    if (before === after) return;
    if (before !== undefined) {
      this.#byName.get(before)?.delete(id);
      if (this.#byName.get(before)?.size === 0) this.#byName.delete(before);
      this.#nameOf.delete(id);
    }
    if (after !== undefined) {
      const holders = this.#byName.get(after) ?? new Map<string, ObjectKey>();
      holders.set(id, key);
      this.#byName.set(after, holders);
      this.#nameOf.set(id, after);
    }
  }

  /** Every User of the namespace whose spec.userName is this one. */
  usersNaming(store: Store, namespace: string, userName: string): User[] {
    const keys = this.#byName.get(`${namespace}\u0000${userName}`)?.values() ?? [];
    return [...keys].flatMap((key) => store.get('User', key) ?? []);
  }

  seed(store: Store): void {
    for (const user of store.list('User')) this.update(keyOf(user), user);
  }
}
