// Lists a store hands out and promises never to change (store/kind-lists.ts): a reader may key a
// cache on one (the guard's holding Users). Freezing would promise the
// same, but freezing an array of 10,000 costs as much as copying it thirty times, and the stores
// make a new list on every write while a namespace converges.
const unchanging = new WeakSet<readonly unknown[]>();

/** Marks `list` as one that is never changed after this call; returns it. */
export function neverChanges<T extends readonly unknown[]>(list: T): T {
  unchanging.add(list);
  return list;
}

/** Whether `list` is known never to change: frozen, or marked by neverChanges. */
export function isUnchanging(list: readonly unknown[]): boolean {
  return unchanging.has(list) || Object.isFrozen(list);
}
