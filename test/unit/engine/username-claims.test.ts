// holdingUsers derives a namespace's holders from its last list when Users were only replaced by
// newer versions of themselves (a status write, a leaver): it must give what a fresh count gives.
import { describe, expect, it } from 'vitest';
import { neverChanges, type User } from '../../../src/api/index.ts';
import { holdingUsers, userNameHolders } from '../../../src/engine/index.ts';

const user = (name: string, userName: string, created: string, state = 'active'): User =>
  ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'User',
    metadata: { name, namespace: 'claims', uid: `uid-${name}`, creationTimestamp: created },
    spec: { userName, state },
  }) as User;

/** The holders counted afresh, in the list's order. */
const fresh = (users: readonly User[]) => {
  const holders = userNameHolders(users);
  return users.filter((u) => holders.get(u.spec.userName) === u);
};

describe('holdingUsers', () => {
  const base = [
    user('ann', 'ann', '2026-01-01T00:00:00Z'),
    user('ann-again', 'ann', '2026-02-01T00:00:00Z'),
    user('bob', 'bob', '2026-01-01T00:00:00Z'),
    user('cy', 'cy', '2026-01-01T00:00:00Z'),
  ];

  it('gives the newer versions of the same holders when Users are replaced in place', () => {
    const first = neverChanges([...base]);
    expect(holdingUsers(first)).toEqual(fresh(first));
    const leaver = user('bob', 'bob', '2026-01-01T00:00:00Z', 'terminated');
    const second = neverChanges([base[0]!, base[1]!, leaver, base[3]!]);
    const held = holdingUsers(second);
    expect(held).toEqual(fresh(second));
    expect(held[1]).toBe(leaver);
  });

  it('counts afresh when a replaced User claims another userName, or is another User', () => {
    const first = neverChanges([...base]);
    holdingUsers(first);
    // ann (as old as bob, first by name) takes the name bob: bob's own User no longer holds it.
    const renamed = neverChanges([user('ann', 'bob', '2026-01-01T00:00:00Z'), base[1]!, base[2]!, base[3]!]);
    expect(holdingUsers(renamed)).toEqual(fresh(renamed));
    expect(holdingUsers(renamed).map((u) => u.metadata.name)).toEqual(['ann', 'ann-again', 'cy']);
    const recreated = neverChanges([base[0]!, base[1]!, { ...base[2]!, metadata: { ...base[2]!.metadata, uid: 'uid-bob-2' } }, base[3]!]);
    expect(holdingUsers(recreated)).toEqual(fresh(recreated));
  });
});
