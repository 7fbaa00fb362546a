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

/**
 * Where `after` differs from `before`, when it is `before` with some elements replaced in place and
 * some appended, as the stores' kept lists change on a write: the positions of the replaced and
 * appended ones. undefined when `after` is shorter (something was removed: the stores then rebuild
 * the list, and positions say nothing). A walk comparing references, no more: ten thousand
 * elements take microseconds, where re-reading each element is what a reader wants to spare.
 */
export function changedPositions<T>(before: readonly T[], after: readonly T[]): number[] | undefined {
  if (after.length < before.length) return undefined;
  const changed: number[] = [];
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) changed.push(i);
  for (let i = before.length; i < after.length; i++) changed.push(i);
  return changed;
}
