// KindLists keeps one unchanging list per kind and namespace: a changed or added object takes its
// place without a walk over the store, and a removal has the lists built afresh.
import { describe, expect, it } from 'vitest';
import { isUnchanging } from '../../../src/api/index.ts';
import { KindLists } from '../../../src/store/kind-lists.ts';
import type { AnyResource } from '../../../src/store/store.ts';

const user = (namespace: string, name: string, version: string) =>
  Object.freeze({ kind: 'User', metadata: { namespace, name, resourceVersion: version } }) as unknown as AnyResource;

describe('KindLists', () => {
  it('puts a changed object in its old place and an added one at the end, in the namespace list and the all list alike', () => {
    const objects = [user('a', 'ann', '1'), user('b', 'bob', '2'), user('a', 'cat', '3')];
    const lists = new KindLists();
    let builds = 0;
    const build = (namespace?: string) => () => {
      builds++;
      return objects.filter((o) => namespace === undefined || o.metadata.namespace === namespace);
    };
    const before = lists.list('User', 'a', build('a'));
    const all = lists.list('User', undefined, build());
    expect(builds).toBe(2);

    const annAgain = user('a', 'ann', '4');
    lists.put('User', annAgain);
    const dan = user('a', 'dan', '5');
    lists.put('User', dan);
    const after = lists.list('User', 'a', build('a'));
    expect(builds).toBe(2); // no walk over the store
    expect(after).toEqual([annAgain, objects[2], dan]);
    expect(lists.list('User', undefined, build())).toEqual([annAgain, objects[1], objects[2], dan]);
    expect(isUnchanging(after)).toBe(true);
    // What was handed out before stays as it was: a reader keeps a consistent list.
    expect(before).toEqual([objects[0], objects[2]]);
    expect(all).toHaveLength(3);
    // Another namespace's list is not touched by a change in this one.
    const inB = lists.list('User', 'b', build('b'));
    lists.put('User', user('a', 'ann', '6'));
    expect(lists.list('User', 'b', build('b'))).toBe(inB);
  });

  it('builds afresh after a removal, and keeps other kinds', () => {
    const lists = new KindLists();
    let builds = 0;
    const users = () => {
      builds++;
      return [user('a', 'ann', '1')];
    };
    lists.list('User', 'a', users);
    const roles = lists.list('AccessRole', 'a', () => []);
    lists.removed('User');
    lists.list('User', 'a', users);
    expect(builds).toBe(2);
    expect(lists.list('AccessRole', 'a', () => [user('a', 'x', '9')])).toBe(roles);
  });
});
