// The deletion gate keeps the guard's state between reconciles: deprovisions pending now and those
// made within the window count alike (a burst is judged whole however it arrives), nothing waits
// while within the limit, and the window is seeded from the system's status (it survives restarts).
import { TestClock } from '../../../src/clock/clock.ts';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ConnectedSystem } from '../../../src/api/index.ts';
import { Connections } from '../../../src/connections/connections.ts';
import type { ControllerContext } from '../../../src/controllers/context.ts';
import { AccountSyncs } from '../../../src/controllers/account-syncs.ts';
import { StatusWrites } from '../../../src/controllers/status-writes.ts';
import { DeletionGate } from '../../../src/controllers/deletion-gate.ts';
import { ObservedCache } from '../../../src/controllers/observed-cache.ts';
import { UserNameIndex } from '../../../src/controllers/user-name-index.ts';
import { MemoryStore, type ResourceInput } from '../../../src/store/memory-store.ts';
import { readSnapshot } from '../../../src/store/world.ts';

const logger = pino({ level: 'silent' });
const systemWith = (status?: object, deletionGuard: object = { maxCount: 2 }) =>
  ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'ConnectedSystem',
    metadata: { name: 'wiki', namespace: 'acme' },
    spec: { type: 'sqlite', sqlite: { path: '/nonexistent/never-opened.db' }, deletionGuard, resyncInterval: '5m' },
    ...(status ? { status } : {}),
  }) as ResourceInput;
const role = {
  apiVersion: 'rollcall.dev/v1alpha1',
  kind: 'AccessRole',
  metadata: { name: 'staff', namespace: 'acme' },
  spec: { grants: [{ system: 'wiki', entitlements: ['all'] }] },
} as ResourceInput;
const binding = {
  apiVersion: 'rollcall.dev/v1alpha1',
  kind: 'AccessBinding',
  metadata: { name: 'staff', namespace: 'acme' },
  spec: { role: 'staff', userSelector: { matchLabels: { staff: 'yes' } } },
} as ResourceInput;
const user = (name: string, state: string) =>
  ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'User',
    metadata: { name, namespace: 'acme', labels: { staff: 'yes' } },
    spec: { userName: name, state },
    status: { accounts: [{ system: 'wiki', state: 'present', entitlements: ['all'] }] },
  }) as ResourceInput;

const capabilities = { disable: true, entitlements: true, attributes: [] };

function context(users: ResourceInput[], clock: TestClock, status?: object, deletionGuard?: object): ControllerContext {
  const store = new MemoryStore([systemWith(status, deletionGuard), role, binding, ...users], { logger });
  return {
    store,
    logger,
    connections: new Connections({ store, logger }),
    observed: new ObservedCache(),
    gate: new DeletionGate(),
    clock,
    enqueue: () => undefined,
    userNames: new UserNameIndex(),
    syncs: new AccountSyncs({ patienceMs: 1_000, onDone: () => undefined }),
    statusWrites: new StatusWrites({ max: 1, onFailed: () => undefined }),
  };
}

/** What a reconcile reads once: the namespace's objects and the instant. */
const snapshot = (ctx: ControllerContext) => readSnapshot(ctx.store, 'acme', ctx.clock);

describe('DeletionGate', () => {
  const wiki = (ctx: ControllerContext) => ctx.store.get('ConnectedSystem', { namespace: 'acme', name: 'wiki' }) as ConnectedSystem;

  it('lets a pass within the limit through at once: a single leaver never waits', async () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const ctx = context([user('a', 'terminated'), user('b', 'active')], clock);
    const decision = await ctx.gate.decide(ctx, wiki(ctx), capabilities, snapshot(ctx));
    expect(decision.verdict.tripped).toBe(false);
    expect(decision.count).toBe(1);
  });

  it('counts pending plus admitted deprovisions once each, and trips above the limit', async () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const ctx = context([user('a', 'terminated'), user('b', 'suspended'), user('c', 'active')], clock);
    expect((await ctx.gate.admit(ctx, wiki(ctx), capabilities, 'a', snapshot(ctx))).verdict.tripped).toBe(false); // in flight: pending and recent, counted once
    expect(await ctx.gate.decide(ctx, wiki(ctx), capabilities, snapshot(ctx))).toMatchObject({ count: 2, verdict: { tripped: false } });
    expect((await ctx.gate.admit(ctx, wiki(ctx), capabilities, 'b', snapshot(ctx))).verdict.tripped).toBe(false);
    expect(ctx.gate.recent(wiki(ctx)).map((r) => r.userName)).toEqual(['a', 'b']);
    // Orphans the policy would remove count on top.
    expect((await ctx.gate.decide(ctx, wiki(ctx), capabilities, snapshot(ctx), { orphans: ['old-account'] })).verdict).toMatchObject({
      tripped: true,
      count: 3,
      limit: 2,
    });
  });

  it('admits side-by-side reconciles one at a time: never more than the limit slips through', async () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const names = ['a', 'b', 'c', 'd', 'e'];
    const ctx = context(
      names.map((n) => user(n, 'active')),
      clock,
    );
    // Each leaver is admitted while the others' terminations are not yet visible (a burst seen one event at a time).
    const decisions = await Promise.all(names.map((name) => ctx.gate.admit(ctx, wiki(ctx), capabilities, name, snapshot(ctx))));
    expect(decisions.filter((d) => !d.verdict.tripped)).toHaveLength(2);
    expect(ctx.gate.recent(wiki(ctx))).toHaveLength(2);
  });

  it('decides admissions that wait together on one pass over the Users: a burst does not cost a pass per leaver', async () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const names = Array.from({ length: 20 }, (_, i) => `u${i}`);
    const ctx = context(
      names.map((n) => user(n, 'terminated')),
      clock,
      { recentDeprovisions: [] },
      { maxCount: 100 },
    );
    const wide = wiki(ctx);
    // Every pass asks the listing cache about each User once: count the asks.
    let asks = 0;
    const get = ctx.observed.get.bind(ctx.observed);
    ctx.observed.get = (system, userName) => {
      asks++;
      return get(system, userName);
    };
    const decisions = await Promise.all(names.map((name) => ctx.gate.admit(ctx, wide, capabilities, name, snapshot(ctx))));
    expect(decisions.every((d) => !d.verdict.tripped)).toBe(true);
    expect(ctx.gate.recent(wide).map((r) => r.userName)).toEqual(names);
    // The first admission's pass looks at each User; the 19 that waited are decided together on a
    // pass that looks again only at what changed since (nothing here): 20 asks, not 20 passes of 20.
    expect(asks).toBe(names.length);
  });

  it('seeds the window from status, so a restarted controller still counts what it did', async () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const status = {
      recentDeprovisions: [
        { userName: 'x', at: '2026-11-26T08:58:00Z' },
        { userName: 'y', at: '2026-11-26T08:59:00Z' },
      ],
    };
    const ctx = context([user('a', 'terminated')], clock, status);
    expect((await ctx.gate.decide(ctx, wiki(ctx), capabilities, snapshot(ctx))).verdict).toMatchObject({ tripped: true, count: 3 });
  });

  it('decides on the system as the store holds it now: an approval given after a sync began counts, a release is not undone by an older copy', async () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const tripped = {
      conditions: [
        { type: 'DeletionGuardTripped', status: 'True', reason: 'TooManyDeprovisions', message: 'held', lastTransitionTime: '2026-11-26T08:59:00Z' },
      ],
    };
    // Two leavers, within maxCount 2, but the guard latched on an earlier, larger pass.
    const ctx = context(
      ['a', 'b'].map((n) => user(n, 'terminated')),
      clock,
      tripped,
    );
    const key = { namespace: 'acme', name: 'wiki' };
    // The copy a sync took when it began: tripped, no approval yet.
    const before = wiki(ctx);
    expect((await ctx.gate.admit(ctx, before, capabilities, 'a', snapshot(ctx))).verdict.tripped).toBe(true);
    await ctx.store.setAnnotations('ConnectedSystem', key, { 'rollcall.dev/approve-deprovision': '2' });
    expect((await ctx.gate.admit(ctx, before, capabilities, 'a', snapshot(ctx))).verdict.tripped).toBe(false);
    // The pass released (status False) and the approval spent: a copy from before either still holding the trip latches nothing.
    await ctx.store.updateStatus('ConnectedSystem', key, { conditions: [{ ...tripped.conditions[0]!, status: 'False', reason: 'WithinLimit' }] });
    await ctx.store.setAnnotations('ConnectedSystem', key, { 'rollcall.dev/approve-deprovision': null });
    expect((await ctx.gate.decide(ctx, before, capabilities, snapshot(ctx))).verdict.tripped).toBe(false);
  });

  it('forgets deprovisions older than resyncInterval', async () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const status = {
      recentDeprovisions: [
        { userName: 'x', at: '2026-11-26T08:54:59Z' },
        { userName: 'y', at: '2026-11-26T08:59:00Z' },
      ],
    };
    const ctx = context([user('a', 'terminated')], clock, status);
    expect(await ctx.gate.decide(ctx, wiki(ctx), capabilities, snapshot(ctx))).toMatchObject({ count: 2, verdict: { tripped: false } });
    expect(ctx.gate.window(wiki(ctx), clock.now()).map((e) => e.userName)).toEqual(['y']);
  });

  it('re-plans a User only when it, its account or the declarations changed, or its time came', async () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const contractor = { ...user('c', 'active'), spec: { userName: 'c', state: 'active', validUntil: '2026-11-26T10:00:00Z' } } as ResourceInput;
    const ctx = context([user('a', 'active'), contractor], clock);
    expect((await ctx.gate.decide(ctx, wiki(ctx), capabilities, snapshot(ctx))).count).toBe(0);
    clock.set(new Date('2026-11-26T10:00:00Z')); // the contractor's validUntil: no watch event, only time
    expect((await ctx.gate.decide(ctx, wiki(ctx), capabilities, snapshot(ctx))).count).toBe(1);
  });

  it("counts an entitlement the system's connector refuses, held from before, as a pending revoke: as rollcall plan does", async () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const ctx = context(
      ['a', 'b', 'c'].map((n) => user(n, 'active')),
      clock,
    );
    // What a listing put in the cache: each account holds 'all'.
    for (const name of ['a', 'b', 'c'])
      ctx.observed.set('acme/wiki', name, { userName: name, id: name, state: 'present', attributes: {}, entitlements: ['all'] });
    expect((await ctx.gate.decide(ctx, wiki(ctx), capabilities, snapshot(ctx))).count).toBe(0);
    ctx.gate.knowRefusal(wiki(ctx), (entitlement) => (entitlement === 'all' ? 'out of reach' : undefined));
    expect((await ctx.gate.decide(ctx, wiki(ctx), capabilities, snapshot(ctx))).verdict).toMatchObject({ tripped: true, count: 3, limit: 2 });
  });

  it('filler Users created just now do not inflate the percentage: 10 real Users losing their role are held among 200 fillers', async () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const percent = { ...systemWith(), spec: { ...(systemWith() as { spec: object }).spec, deletionGuard: { maxPercent: 20 } } } as ResourceInput;
    // The real people: Users for months, holding `ops` from an AccessRole that was just deleted.
    const real = Array.from({ length: 10 }, (_, i) => {
      const person = user(`person${i}`, 'active') as { metadata: object; status: object };
      return {
        ...person,
        metadata: { ...person.metadata, creationTimestamp: '2026-06-01T00:00:00Z' },
        status: { accounts: [{ system: 'wiki', state: 'present', entitlements: ['all', 'ops'] }] },
      } as ResourceInput;
    });
    // The fillers: created a minute ago (the store stamps them with the clock), each holding an account.
    clock.set(new Date('2026-11-26T08:59:00Z'));
    const store = new MemoryStore([percent, role, binding, ...real, ...Array.from({ length: 200 }, (_, i) => user(`filler${i}`, 'active'))], { logger, clock });
    clock.set(new Date('2026-11-26T09:00:00Z'));
    const ctx: ControllerContext = {
      store,
      logger,
      connections: new Connections({ store, logger }),
      observed: new ObservedCache(),
      gate: new DeletionGate(),
      clock,
      enqueue: () => undefined,
      userNames: new UserNameIndex(),
      syncs: new AccountSyncs({ patienceMs: 1_000, onDone: () => undefined }),
      statusWrites: new StatusWrites({ max: 1, onFailed: () => undefined }),
    };
    const decision = await ctx.gate.decide(ctx, wiki(ctx), capabilities, snapshot(ctx));
    expect(decision).toMatchObject({ count: 10, managed: 10, limit: 2, verdict: { tripped: true } });
    // A revoke asking to go through is held, as the next sync of any real person would be.
    expect((await ctx.gate.admit(ctx, wiki(ctx), capabilities, 'person0', snapshot(ctx))).verdict.tripped).toBe(true);
  });
});
