// The lists a store hands out (list(kind, namespace)): one array per kind and namespace, kept
// across writes. A reconcile reads its namespace's objects several times, and while 10,000
// Users converge every status write changes one of them: rebuilding the list on each read made the
// pass quadratic (a third of a 10,000-User convergence's CPU went to filtering the store). A changed
// or added object is put in place of its old version in a copy of each list that holds it (a copy
// of an array of references, not a walk over the store); only a removal rebuilds. The lists are
// marked, not frozen (api/unchanging-list.ts): nothing changes one once it is handed out.
import { neverChanges } from '../api/unchanging-list.ts';
import { keyOf, keyString, type AnyResource } from './store.ts';

interface Cached {
  items: readonly AnyResource[];
  /** Where each object sits in `items`, by namespace/name: built on the first put. */
  positions?: Map<string, number>;
}

export class KindLists {
  readonly #lists = new Map<string, Cached>();

  /** The kind's objects in the namespace (all namespaces when undefined); `build` lists them when none is kept. */
  list(kind: string, namespace: string | undefined, build: () => AnyResource[]): readonly AnyResource[] {
    const key = listKey(kind, namespace);
    let cached = this.#lists.get(key);
    if (!cached) {
      cached = { items: neverChanges(build()) };
      this.#lists.set(key, cached);
    }
    return cached.items;
  }

  /** `object` was added or replaced: each kept list it belongs to gets it, in its old version's place or at the end. */
  put(kind: string, object: AnyResource): void {
    const id = keyString(keyOf(object));
    for (const key of new Set([listKey(kind, undefined), listKey(kind, object.metadata.namespace)])) {
      const cached = this.#lists.get(key);
      if (!cached) continue;
      const positions = (cached.positions ??= new Map(cached.items.map((item, index) => [keyString(keyOf(item)), index])));
      const items = cached.items.slice();
      const at = positions.get(id);
      if (at === undefined) {
        positions.set(id, items.length);
        items.push(object);
      } else items[at] = object;
      cached.items = neverChanges(items);
    }
  }

  /** An object of the kind went (or no longer belongs in its lists): they are built afresh when next read. */
  removed(kind: string): void {
    for (const key of this.#lists.keys()) if (key.startsWith(`${kind}/`)) this.#lists.delete(key);
  }
}

function listKey(kind: string, namespace: string | undefined): string {
  return `${kind}/${namespace ?? ''}`;
}
