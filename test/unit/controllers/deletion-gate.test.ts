// The deletion gate judges a burst of deprovisions as one pass: it waits until the pending count
// stops growing, counts recent deprovisions too, and trips above the limit.
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
const system = {
  apiVersion: 'rollcall.dev/v1alpha1',
  kind: 'ConnectedSystem',
  metadata: { name: 'wiki', namespace: 'acme' },
  spec: { type: 'sqlite', sqlite: { path: '/nonexistent/never-opened.db' }, deletionGuard: { maxCount: 2 }, resyncInterval: '5m' },
} as ResourceInput;
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

function context(users: ResourceInput[], clock: TestClock): ControllerContext {
  const store = new MemoryStore([system, role, binding, ...users], { logger });
  return { store, logger, connections: new Connections({ store, logger }), observed: new ObservedCache(), gate: new DeletionGate(), clock };
}

describe('DeletionGate', () => {
  const wiki = (ctx: ControllerContext) => ctx.store.get('ConnectedSystem', { namespace: 'acme', name: 'wiki' }) as ConnectedSystem;

  it('lets a small pass through once its count has settled', () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const ctx = context([user('a', 'terminated'), user('b', 'active')], clock);
    const gate = new DeletionGate({ settleMs: 2000 });
    const first = gate.evaluate(ctx, wiki(ctx));
    expect(first.verdict.tripped).toBe(false);
    expect(first.settlingUntil?.toISOString()).toBe('2026-11-26T09:00:02.000Z');
    clock.set(new Date('2026-11-26T09:00:02Z'));
    gate.reset();
    expect(gate.evaluate(ctx, wiki(ctx)).settlingUntil).toBeUndefined();
  });

  it('counts pending plus recent deprovisions, and trips above the limit', () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const ctx = context([user('a', 'terminated'), user('b', 'suspended'), user('c', 'active')], clock);
    const gate = new DeletionGate({ settleMs: 0 });
    expect(gate.evaluate(ctx, wiki(ctx)).verdict.tripped).toBe(false);
    gate.recordDeprovision('acme/wiki', clock.now());
    gate.reset();
    const verdict = gate.evaluate(ctx, wiki(ctx)).verdict;
    expect(verdict).toMatchObject({ tripped: true, count: 3, limit: 2 });
  });

  it('restarts the settle wait whenever the pending count grows', () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const users = [user('a', 'terminated'), user('b', 'active')];
    let ctx = context(users, clock);
    const gate = new DeletionGate({ settleMs: 2000 });
    gate.evaluate(ctx, wiki(ctx));
    clock.set(new Date('2026-11-26T09:00:01.500Z'));
    ctx = context([user('a', 'terminated'), user('b', 'terminated')], clock);
    gate.reset();
    expect(gate.evaluate(ctx, wiki(ctx)).settlingUntil?.toISOString()).toBe('2026-11-26T09:00:03.500Z');
  });
});
