// The deletion gate keeps its answers between decisions and looks again only at what changed (a
// User replaced in the store's list, an account the listing cache wrote or doubted). Whatever the
// order of changes, its decision must be the one a gate deciding from scratch makes: that is what
// `rollcall plan` counts, and what keeps the guard a guard. Seeded random walks over the changes a
// namespace sees: leavers, returners, status writes, write-throughs, doubts, listings, a second
// claimant of a userName, joiners, and time passing the guard's window and a binding's end.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ConnectedSystem, ObservedAccount } from '../../../src/api/index.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { DeletionGate } from '../../../src/controllers/deletion-gate.ts';
import { ObservedCache } from '../../../src/controllers/observed-cache.ts';
import { MemoryStore, type ResourceInput } from '../../../src/store/memory-store.ts';
import { readSnapshot } from '../../../src/store/world.ts';
import { seededRandomFrom } from '../../helpers/seeded-random.ts';

const logger = pino({ level: 'silent' });
const meta = (kind: string, name: string, extra: object = {}) => ({
  apiVersion: 'rollcall.dev/v1alpha1',
  kind,
  metadata: { name, namespace: 'acme', ...extra },
});
const START = new Date('2026-11-26T09:00:00Z');
const capabilities = { disable: true, entitlements: true, attributes: [] };
const key = (name: string) => ({ namespace: 'acme', name });

function world(clock: TestClock, users: number): MemoryStore {
  return new MemoryStore(
    [
      {
        ...meta('ConnectedSystem', 'wiki'),
        spec: { type: 'sqlite', sqlite: { path: '/nonexistent/never-opened.db' }, resyncInterval: '5m', deletionGuard: { maxPercent: 50 } },
      },
      { ...meta('AccessRole', 'staff'), spec: { grants: [{ system: 'wiki', entitlements: ['all'] }] } },
      { ...meta('AccessRole', 'temp'), spec: { grants: [{ system: 'wiki', entitlements: ['extra'] }] } },
      { ...meta('AccessBinding', 'staff'), spec: { role: 'staff', userSelector: { matchLabels: { staff: 'yes' } } } },
      // Ends while the walk runs: an answer that changes by time alone.
      { ...meta('AccessBinding', 'temp'), spec: { role: 'temp', users: ['u1', 'u2', 'u3'], validUntil: '2026-11-26T09:20:00Z' } },
      // And a second one, later: after the first end, the gate must still know when the next answer changes.
      { ...meta('AccessBinding', 'temp-later'), spec: { role: 'temp', users: ['u4', 'u5'], validUntil: '2026-11-26T09:40:00Z' } },
      ...Array.from({ length: users }, (_, i) => person(`u${i}`)),
    ] as ResourceInput[],
    { logger, clock },
  );
}

/** What a User holds while everything is granted: u1 to u5 also hold the temporary grant. */
const held = (userName: string) => (['u1', 'u2', 'u3', 'u4', 'u5'].includes(userName) ? ['all', 'extra'] : ['all']);

function person(name: string, userName = name): ResourceInput {
  return {
    ...meta('User', name, { labels: { staff: 'yes' } }),
    spec: { userName, state: 'active' },
    status: { accounts: [{ system: 'wiki', state: 'present', entitlements: held(userName) }] },
  } as ResourceInput;
}

function account(userName: string, state: 'present' | 'disabled', entitlements = held(userName)): ObservedAccount {
  return { userName, id: userName, state, attributes: {}, entitlements };
}

describe('DeletionGate, decided from what changed', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`decides as a gate deciding from scratch, whatever changes in between (walk ${seed})`, async () => {
      const clock = new TestClock(START);
      const store = world(clock, 30);
      const observed = new ObservedCache();
      const ctx = { store, observed };
      const gate = new DeletionGate();
      const wiki = () => store.get('ConnectedSystem', key('wiki')) as ConnectedSystem;
      const { next } = seededRandomFrom(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
      const names = () => store.list('User', 'acme').map((u) => u.spec.userName);
      let joiners = 0;
      let listed = false;
      const steps: string[] = [];
      for (let step = 0; step < 150; step++) {
        const roll = next();
        const name = pick(names());
        if (roll < 0.15) {
          steps.push(`leaver ${name}`);
          await store.patchUser(key(name), { spec: { state: 'terminated' } });
        } else if (roll < 0.22) {
          steps.push(`returner ${name}`);
          await store.patchUser(key(name), { spec: { state: 'active' } });
        } else if (roll < 0.3) {
          steps.push(`label off ${name}`);
          await store.patchUser(key(name), { labels: { staff: 'no' } });
        } else if (roll < 0.42) {
          const state = pick(['present', 'disabled', 'absent'] as const);
          steps.push(`status ${name} ${state}`);
          await store.updateStatus('User', key(name), { accounts: [{ system: 'wiki', state, entitlements: state === 'absent' ? [] : held(name) }] } as never);
        } else if (roll < 0.55 && listed) {
          const written = pick([account(name, 'present'), account(name, 'disabled'), account(name, 'present', ['all']), null]);
          steps.push(`write-through ${name} ${written?.state ?? 'gone'}`);
          observed.set('acme/wiki', name, written);
        } else if (roll < 0.6 && listed) {
          steps.push(`doubt ${name}`);
          observed.invalidate('acme/wiki', name);
        } else if (roll < 0.68) {
          steps.push('listing');
          observed.replace(
            'acme/wiki',
            [
              ...names()
                .filter(() => next() < 0.9)
                .map((n) => account(n, 'present')),
              account('orphan', 'present'),
            ],
            observed.beginListing(),
          );
          listed = true;
        } else if (roll < 0.74) {
          const joiner = `j${joiners++}`;
          // Every few joiners, one claims a userName another User holds already.
          const userName = joiners % 3 === 0 ? name : joiner;
          steps.push(`joiner ${joiner} as ${userName}`);
          await store.createUser(person(joiner, userName) as never);
        } else if (roll < 0.78) {
          steps.push(`forget`);
          observed.forget('acme/wiki');
          listed = false;
        } else {
          const ms = pick([1_000, 30_000, 200_000, 400_000]);
          steps.push(`+${ms} ms`);
          clock.advance(ms);
        }
        const snapshot = readSnapshot(store, 'acme', clock);
        const kept = await gate.decide(ctx, wiki(), capabilities, snapshot);
        const fresh = await new DeletionGate().decide(ctx, wiki(), capabilities, snapshot);
        expect({ count: kept.count, managed: kept.managed, after: steps.slice(-6) }).toEqual({
          count: fresh.count,
          managed: fresh.managed,
          after: steps.slice(-6),
        });
      }
    });
  }

  /** 2,000 Users, every account listed, and a gate whose reads of the listing cache are counted per decision. */
  function countedReads() {
    const clock = new TestClock(START);
    const store = world(clock, 2_000);
    const observed = new ObservedCache();
    observed.replace(
      'acme/wiki',
      store.list('User', 'acme').map((u) => account(u.spec.userName, 'present')),
      observed.beginListing(),
    );
    let reads = 0;
    const get = observed.get.bind(observed);
    observed.get = (system, userName) => {
      reads++;
      return get(system, userName);
    };
    const ctx = { store, observed };
    const gate = new DeletionGate();
    const wiki = () => store.get('ConnectedSystem', key('wiki')) as ConnectedSystem;
    /** The kept gate's decision (checked against a fresh gate's) and how many accounts it read. */
    const decide = async () => {
      reads = 0;
      const snapshot = readSnapshot(store, 'acme', clock);
      const kept = await gate.decide(ctx, wiki(), capabilities, snapshot);
      const keptReads = reads;
      const fresh = await new DeletionGate().decide(ctx, wiki(), capabilities, snapshot);
      expect(kept.count).toBe(fresh.count);
      return { count: kept.count, reads: keptReads };
    };
    return { clock, store, observed, decide };
  }

  it('looks again only at the User that changed: a leaver at 2,000 Users reads one account, not the namespace', async () => {
    const { store, observed, decide } = countedReads();
    expect(await decide()).toEqual({ count: 0, reads: 2_000 });
    await store.patchUser(key('u7'), { spec: { state: 'terminated' } });
    observed.set('acme/wiki', 'u9', account('u9', 'disabled'));
    expect(await decide()).toEqual({ count: 1, reads: 2 });
  });

  it('when grants end, looks again only at their holders, at each end: 2,000 Users, two bindings ending twenty minutes apart', async () => {
    const { clock, decide } = countedReads();
    await decide();
    clock.advance(21 * 60_000); // temp ended: u1 to u3 lose "extra"
    expect(await decide()).toEqual({ count: 3, reads: 3 });
    clock.advance(20 * 60_000); // temp-later ended: u4 and u5 too
    expect(await decide()).toEqual({ count: 5, reads: 2 });
  });

  it('counts an account written while a full pass runs as it stands when the decision is made', async () => {
    const clock = new TestClock(START);
    const store = world(clock, 50);
    await store.patchUser(key('u3'), { spec: { state: 'terminated' } });
    const observed = new ObservedCache();
    observed.replace(
      'acme/wiki',
      store.list('User', 'acme').map((u) => account(u.spec.userName, 'present')),
      observed.beginListing(),
    );
    // u3's account is deleted (written through) while the pass is past u3 and still reading the others.
    const get = observed.get.bind(observed);
    observed.get = (system, userName) => {
      if (userName === 'u40' && get(system, 'u3')) observed.set(system, 'u3', null);
      return get(system, userName);
    };
    const ctx = { store, observed };
    const wiki = store.get('ConnectedSystem', key('wiki')) as ConnectedSystem;
    const snapshot = readSnapshot(store, 'acme', clock);
    const kept = await new DeletionGate().decide(ctx, wiki, capabilities, snapshot);
    expect(kept.count).toBe(0);
    expect(kept.count).toBe((await new DeletionGate().decide(ctx, wiki, capabilities, snapshot)).count);
  });
});
