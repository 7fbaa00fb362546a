// The deletion gate keeps each User's answer between decisions: a leaver's change re-plans that
// User alone, not the namespace (which made every leaver at 10,000 Users cost ten thousand plans).
// Only a change an approval depends on re-plans the Users the approval covers. (DeletionGate.plans
// counts the plans: the unit project shares modules between files, so a module mock would not hold.)
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { TestClock } from '../../../src/clock/clock.ts';
import type { ConnectedSystem } from '../../../src/api/index.ts';
import { DeletionGate } from '../../../src/controllers/deletion-gate.ts';
import { ObservedCache } from '../../../src/controllers/observed-cache.ts';
import { MemoryStore, type ResourceInput } from '../../../src/store/memory-store.ts';
import { readSnapshot } from '../../../src/store/world.ts';

const logger = pino({ level: 'silent' });
const meta = (kind: string, name: string, extra: object = {}) => ({
  apiVersion: 'rollcall.dev/v1alpha1',
  kind,
  metadata: { name, namespace: 'acme', ...extra },
});
const USERS = 40;

function store(requiresApproval: boolean, clock?: TestClock): MemoryStore {
  return new MemoryStore(
    [
      { ...meta('ConnectedSystem', 'wiki'), spec: { type: 'sqlite', sqlite: { path: '/nonexistent/never-opened.db' }, deletionGuard: { maxCount: USERS } } },
      { ...meta('AccessRole', 'staff'), spec: { grants: [{ system: 'wiki', entitlements: ['all'] }], ...(requiresApproval && { requiresApproval: true }) } },
      { ...meta('AccessBinding', 'staff'), spec: { role: 'staff', userSelector: { matchLabels: { staff: 'yes' } } } },
      ...Array.from({ length: USERS }, (_, i) => ({
        ...meta('User', `u${i}`, { labels: { staff: 'yes' } }),
        spec: { userName: `u${i}`, state: 'active' },
        status: { accounts: [{ system: 'wiki', state: 'present', entitlements: ['all'] }] },
      })),
    ] as ResourceInput[],
    { logger, clock },
  );
}

describe('DeletionGate re-planning', () => {
  const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
  const capabilities = { disable: true, entitlements: true, attributes: [] };

  async function decisionsAfterALeaver(requiresApproval: boolean): Promise<{ first: number; after: number; count: number }> {
    const users = store(requiresApproval);
    const ctx = { store: users, observed: new ObservedCache() };
    const gate = new DeletionGate();
    const wiki = () => users.get('ConnectedSystem', { namespace: 'acme', name: 'wiki' }) as ConnectedSystem;
    await gate.decide(ctx, wiki(), capabilities, readSnapshot(users, 'acme', clock));
    const first = gate.plans;
    await users.patchUser({ namespace: 'acme', name: 'u7' }, { spec: { state: 'terminated' } });
    const decision = await gate.decide(ctx, wiki(), capabilities, readSnapshot(users, 'acme', clock));
    return { first, after: gate.plans - first, count: decision.count };
  }

  it("re-plans only the User that changed: a leaver costs one plan, not the namespace's", async () => {
    expect(await decisionsAfterALeaver(false)).toEqual({ first: USERS, after: 1, count: 1 });
  });

  it("re-plans when an AccessReview decides: a reviewer's revoke is pending for the guard though the User did not change", async () => {
    const users = store(false, clock);
    const ctx = { store: users, observed: new ObservedCache() };
    const gate = new DeletionGate();
    const wiki = () => users.get('ConnectedSystem', { namespace: 'acme', name: 'wiki' }) as ConnectedSystem;
    expect((await gate.decide(ctx, wiki(), capabilities, readSnapshot(users, 'acme', clock))).count).toBe(0);
    await users.create('AccessReview', {
      ...meta('AccessReview', 'q4'),
      spec: {
        reviewers: ['rita'],
        dueDate: '2026-12-26T09:00:00Z',
        scope: { roles: ['staff'] },
        decisions: [{ user: 'u3', binding: 'staff', decision: 'revoke', decidedBy: 'rita' }],
      },
    } as never);
    const decision = await gate.decide(ctx, wiki(), capabilities, readSnapshot(users, 'acme', clock));
    expect(decision.count).toBe(1);
  });

  it('re-plans the Users an approval covers when one of them changes: the approval may be void for all', async () => {
    const { first, after } = await decisionsAfterALeaver(true);
    expect(first).toBe(USERS);
    expect(after).toBe(USERS);
  });
});
