// UndeclaredAccounts keeps, between listings, the cached accounts no User names, updating it from
// what changed: whatever the order of changes, it must name what a count from scratch names.
import { describe, expect, it } from 'vitest';
import type { ObservedAccount, User } from '../../../src/api/index.ts';
import { ObservedCache } from '../../../src/controllers/observed-cache.ts';
import { UndeclaredAccounts } from '../../../src/controllers/undeclared-accounts.ts';
import { seededRandomFrom } from '../../helpers/seeded-random.ts';

const user = (name: string, userName: string, version: number): User =>
  ({ metadata: { name, namespace: 'acme', uid: `uid-${name}`, resourceVersion: String(version) }, spec: { userName, state: 'active' } }) as User;
const account = (userName: string): ObservedAccount => ({ userName, id: userName, state: 'present', attributes: {}, entitlements: [] });

describe('UndeclaredAccounts', () => {
  for (const seed of [1, 2, 3]) {
    it(`names what a count from scratch names, whatever changes in between (walk ${seed})`, () => {
      const { next } = seededRandomFrom(seed);
      const names = Array.from({ length: 40 }, (_, i) => `n${i}`);
      const pick = () => names[Math.floor(next() * names.length)]!;
      const cache = new ObservedCache();
      const kept = new UndeclaredAccounts();
      let users: User[] = Array.from({ length: 20 }, (_, i) => user(`u${i}`, `n${i}`, 0));
      let version = 1;
      for (let step = 0; step < 300; step++) {
        const roll = next();
        // As the stores' lists change: a User replaced in place, one added at the end, or one gone.
        if (roll < 0.25) {
          const at = Math.floor(next() * users.length);
          users = users.with(at, user(users[at]!.metadata.name, next() < 0.3 ? pick() : users[at]!.spec.userName, version++));
        } else if (roll < 0.3) users = [...users, user(`j${version}`, pick(), version++)];
        else if (roll < 0.33 && users.length) users = users.filter((_, i) => i !== Math.floor(next() * users.length));
        else if (roll < 0.6) {
          const userName = pick();
          cache.set('s', userName, next() < 0.7 ? account(userName) : null);
        } else if (roll < 0.65) cache.invalidate('s', pick());
        else if (roll < 0.75) cache.replace('s', names.filter(() => next() < 0.6).map(account), cache.beginListing());
        else if (roll < 0.78) cache.forget('s');
        const named = new Set(users.map((u) => u.spec.userName));
        const fromScratch = [...(cache.accountsByName('s')?.values() ?? [])].filter((a) => !named.has(a.userName));
        const sorted = (accounts: ObservedAccount[]) => accounts.map((a) => a.userName).sort();
        expect(sorted(kept.of(cache, 's', users))).toEqual(sorted(fromScratch));
      }
    });
  }
});
