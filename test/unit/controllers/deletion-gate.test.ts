// The deletion gate keeps the guard's state between reconciles: deprovisions pending now and those
// made within the window count alike (a burst is judged whole however it arrives), nothing waits
// while within the limit, and the window is seeded from the system's status (it survives restarts).
import { TestClock } from '../../../src/clock/clock.ts';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ConnectedSystem } from '../../../src/api/index.ts';
import { Connections } from '../../../src/controllers/connections.ts';
import type { ControllerContext } from '../../../src/controllers/context.ts';
import { DeletionGate } from '../../../src/controllers/deletion-gate.ts';
import { ObservedCache } from '../../../src/controllers/observed-cache.ts';
import { MemoryStore, type ResourceInput } from '../../../src/store/memory-store.ts';

const logger = pino({ level: 'silent' });
const systemWith = (status?: object) => ({
  apiVersion: 'rollcall.dev/v1alpha1',
  kind: 'ConnectedSystem',
  metadata: { name: 'wiki', namespace: 'acme' },
  spec: { type: 'sqlite', sqlite: { path: '/nonexistent/never-opened.db' }, deletionGuard: { maxCount: 2 }, resyncInterval: '5m' },
  ...(status ? { status } : {}),
}) as ResourceInput;
const role = { apiVersion: 'rollcall.dev/v1alpha1', kind: 'AccessRole', metadata: { name: 'staff', namespace: 'acme' }, spec: { grants: [{ system: 'wiki', entitlements: ['all'] }] } } as ResourceInput;
const binding = { apiVersion: 'rollcall.dev/v1alpha1', kind: 'AccessBinding', metadata: { name: 'staff', namespace: 'acme' }, spec: { role: 'staff', userSelector: { matchLabels: { staff: 'yes' } } } } as ResourceInput;
const user = (name: string, state: string) =>
  ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'User',
    metadata: { name, namespace: 'acme', labels: { staff: 'yes' } },
    spec: { userName: name, state },
    status: { accounts: [{ system: 'wiki', state: 'present', entitlements: ['all'] }] },
  }) as ResourceInput;

const capabilities = { disable: true, entitlements: true, attributes: [] };

function context(users: ResourceInput[], clock: TestClock, status?: object): ControllerContext {
  const store = new MemoryStore([systemWith(status), role, binding, ...users], { logger });
  return { store, logger, connections: new Connections({ store, logger }), observed: new ObservedCache(), gate: new DeletionGate(), clock, enqueue: () => undefined };
}

describe('DeletionGate', () => {
  const wiki = (ctx: ControllerContext) => ctx.store.get('ConnectedSystem', { namespace: 'acme', name: 'wiki' }) as ConnectedSystem;

  it('lets a pass within the limit through at once: a single leaver never waits', () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const ctx = context([user('a', 'terminated'), user('b', 'active')], clock);
    const decision = ctx.gate.decide(ctx, wiki(ctx), capabilities);
    expect(decision.verdict.tripped).toBe(false);
    expect(decision.count).toBe(1);
  });

  it('counts pending plus recent deprovisions once each, and trips above the limit', () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const ctx = context([user('a', 'terminated'), user('b', 'suspended'), user('c', 'active')], clock);
    expect(ctx.gate.decide(ctx, wiki(ctx), capabilities).verdict.tripped).toBe(false);
    ctx.gate.record(wiki(ctx), 'a', clock.now()); // in flight: pending and recent, counted once
    ctx.gate.reset();
    expect(ctx.gate.decide(ctx, wiki(ctx), capabilities)).toMatchObject({ count: 2, verdict: { tripped: false } });
    ctx.gate.record(wiki(ctx), 'zed', clock.now()); // deprovisioned a moment ago, no longer pending
    ctx.gate.reset();
    expect(ctx.gate.decide(ctx, wiki(ctx), capabilities).verdict).toMatchObject({ tripped: true, count: 3, limit: 2 });
  });

  it('seeds the window from status, so a restarted controller still counts what it did', () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const status = { recentDeprovisions: [{ userName: 'x', at: '2026-11-26T08:58:00Z' }, { userName: 'y', at: '2026-11-26T08:59:00Z' }] };
    const ctx = context([user('a', 'terminated')], clock, status);
    expect(ctx.gate.decide(ctx, wiki(ctx), capabilities).verdict).toMatchObject({ tripped: true, count: 3 });
  });

  it('forgets deprovisions older than resyncInterval', () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const status = { recentDeprovisions: [{ userName: 'x', at: '2026-11-26T08:54:59Z' }, { userName: 'y', at: '2026-11-26T08:59:00Z' }] };
    const ctx = context([user('a', 'terminated')], clock, status);
    expect(ctx.gate.decide(ctx, wiki(ctx), capabilities)).toMatchObject({ count: 2, verdict: { tripped: false } });
    expect(ctx.gate.window(wiki(ctx), clock.now()).map((e) => e.userName)).toEqual(['y']);
  });
});
