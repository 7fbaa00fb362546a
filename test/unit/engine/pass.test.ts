// The one plan for a system's pass: account changes, orphans and the guard's verdict together.
import { describe, expect, it } from 'vitest';
import { changeUserName, type ConnectedSystem, type User } from '../../../src/api/index.ts';
import { decideGuard, planSystemPass } from '../../../src/engine/index.ts';
import { FULL, IMPLICIT, NOW, at, binding, grants, observed, role, system, user } from './fixtures.ts';

const MINUTE = 60_000;
const staff = role('staff', { grants: grants({ wiki: ['all'] }) });
const everyone = binding('everyone', { role: 'staff', userSelector: { matchLabels: { staff: 'yes' } } });
const wiki = (extra: Partial<ConnectedSystem['spec']> = {}, status?: ConnectedSystem['status'], annotations?: Record<string, string>) => {
  const base = system('wiki', { resyncInterval: '5m', deletionGuard: { maxCount: 2 }, ...extra }, annotations ? { annotations } : {});
  return status ? { ...base, status } : base;
};
const member = (name: string, state: 'active' | 'terminated' = 'active'): User => user(name, { state }, { labels: { staff: 'yes' } });
const holding = (...names: string[]) => names.map((name) => observed(name, 'present', ['all']));
const tripped: ConnectedSystem['status'] = {
  conditions: [{ type: 'DeletionGuardTripped', status: 'True', reason: 'TooManyDeprovisions', message: '', lastTransitionTime: at(-MINUTE) }],
};

function pass(csys: ConnectedSystem, users: User[], listing = holding(...users.map((u) => u.spec.userName)), recent: { userName: string; at: string }[] = []) {
  return planSystemPass({
    system: csys,
    users,
    world: { bindings: [everyone], roles: [staff], systems: [csys] },
    listing,
    capabilities: FULL,
    recent,
    now: NOW,
  });
}

describe('planSystemPass', () => {
  it('a single leaver within the limit is planned at once, not held', () => {
    const plan = pass(wiki(), [member('a', 'terminated'), member('b')]);
    expect(plan.guard.verdict.tripped).toBe(false);
    expect(plan.changes.filter((c) => changeUserName(c) === 'a')).toEqual([
      { op: 'disable', userName: 'a' },
      { op: 'revoke', userName: 'a', entitlement: 'all' },
    ]);
    expect(plan.held).toEqual([]);
  });

  it('a burst over the limit is held whole, other changes go ahead', () => {
    const users = [member('a', 'terminated'), member('b', 'terminated'), member('c', 'terminated'), member('d')];
    const plan = pass(wiki(), users, holding('a', 'b', 'c'));
    expect(plan.guard.verdict).toMatchObject({ tripped: true, count: 3, limit: 2 });
    expect(plan.held.filter((c) => c.op === 'disable').map((c) => ('userName' in c ? c.userName : ''))).toEqual(['a', 'b', 'c']);
    expect(plan.changes).toEqual([
      { op: 'create', account: expect.objectContaining({ userName: 'd' }) },
      { op: 'grant', userName: 'd', entitlement: 'all' },
    ]);
  });

  it('counts deprovisions within the window with the pending ones, each account once', () => {
    const recent = [
      { userName: 'a', at: at(-MINUTE) }, // in flight: also pending
      { userName: 'x', at: at(-2 * MINUTE) },
      { userName: 'old', at: at(-6 * MINUTE) }, // outside resyncInterval
    ];
    const plan = pass(wiki(), [member('a', 'terminated'), member('b', 'terminated')], holding('a', 'b'), recent);
    expect(plan.guard).toMatchObject({ count: 3, verdict: { tripped: true, limit: 2 } });
    expect(plan.guard.recent.map((r) => r.userName)).toEqual(['a', 'x']);
  });

  it('once tripped it keeps holding what is still pending, even within the limit, until approved', () => {
    const users = [member('a', 'terminated'), member('b')];
    expect(pass(wiki({}, tripped), users).guard.verdict).toMatchObject({ tripped: true, count: 1 });
    expect(pass(wiki({}, tripped, { 'rollcall.dev/approve-deprovision': '3' }), users).guard.verdict.tripped).toBe(false);
    // Nothing pending any more: the latch lets go by itself.
    expect(pass(wiki({}, tripped), [member('b')]).guard.verdict.tripped).toBe(false);
  });

  it('an approval of the count shown releases the pass while it drains; another count does not', () => {
    const users = [member('a', 'terminated'), member('b', 'terminated'), member('c', 'terminated')];
    expect(pass(wiki({}, undefined, { 'rollcall.dev/approve-deprovision': '3' }), users).guard.verdict.tripped).toBe(false);
    expect(pass(wiki({}, undefined, { 'rollcall.dev/approve-deprovision': '4' }), users).guard.verdict.tripped).toBe(false);
    expect(pass(wiki({}, undefined, { 'rollcall.dev/approve-deprovision': '2' }), users).guard.verdict.tripped).toBe(true);
  });

  it('orphans count toward the guard and are held with the rest', () => {
    const plan = pass(wiki({ orphans: 'delete' }), [member('a', 'terminated')], holding('a', 'zed', 'yan'));
    expect(plan.orphans.orphans.map((o) => o.userName)).toEqual(['zed', 'yan']);
    expect(plan.guard.verdict).toMatchObject({ tripped: true, count: 3 });
    expect(plan.held.filter((c) => c.op === 'delete')).toHaveLength(2);
  });

  it('two Users naming one userName: only the oldest is planned, the other gets nothing', () => {
    const older = user('a-old', { userName: 'a' }, { labels: { staff: 'yes' }, creationTimestamp: '2020-01-01T00:00:00Z' });
    const newer = user('a-new', { userName: 'a', state: 'terminated' }, { labels: { staff: 'yes' }, creationTimestamp: '2025-01-01T00:00:00Z' });
    const plan = pass(wiki(), [newer, older], holding('a'));
    expect(plan.accounts.map((a) => a.user.metadata.name)).toEqual(['a-old']);
    expect(plan.changes.filter((c) => c.op === 'disable')).toEqual([]);
  });

  it('a system without spec.deletionGuard gets the default: a handful of leavers goes through at once', () => {
    const users = ['a', 'b', 'c', 'd'].map((n) => member(n, 'terminated'));
    const plan = pass(wiki({ deletionGuard: undefined }), users);
    expect(plan.guard).toMatchObject({ count: 4, limit: 10, verdict: { tripped: false } });
    expect(plan.changes.filter((c) => c.op === 'disable')).toHaveLength(4);
  });

  it('the default guard holds 11 leavers among 20 accounts (10 or 20 %, whichever is larger)', () => {
    const names = Array.from({ length: 20 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    const users = names.map((n, i) => member(n, i < 11 ? 'terminated' : 'active'));
    const plan = pass(wiki({ deletionGuard: undefined }), users);
    expect(plan.guard.verdict).toMatchObject({ tripped: true, count: 11, limit: 10 });
    if (plan.guard.verdict.tripped) expect(plan.guard.verdict.message).toContain('10 accounts or 20% of 20 managed accounts, whichever is larger');
    expect(plan.changes.filter((c) => c.op === 'disable')).toEqual([]);
    expect(plan.held.filter((c) => c.op === 'disable')).toHaveLength(11);
  });

  it('the default guard scales with the system: 20 % of 100 accounts lets 20 leavers through, not 21', () => {
    const names = Array.from({ length: 100 }, (_, i) => `u${String(i).padStart(3, '0')}`);
    const leaving = (n: number) => names.map((name, i) => member(name, i < n ? 'terminated' : 'active'));
    expect(pass(wiki({ deletionGuard: {} }), leaving(20)).guard).toMatchObject({ count: 20, limit: 20, verdict: { tripped: false } });
    expect(pass(wiki({ deletionGuard: {} }), leaving(21)).guard.verdict).toMatchObject({ tripped: true, count: 21, limit: 20 });
  });

  it('a mass revoke (the role everyone held deleted by mistake) trips the default guard though nobody is disabled', () => {
    const names = Array.from({ length: 30 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    const users = names.map((n) => member(n));
    const csys = wiki({ deletionGuard: undefined });
    const recorded = users.map((u) => ({ ...u, status: { accounts: [{ system: 'wiki', state: 'present' as const, entitlements: ['all'] }] } }));
    const plan = planSystemPass({
      system: csys,
      users: recorded,
      world: { bindings: [everyone], roles: [], systems: [csys] },
      listing: holding(...names),
      capabilities: FULL,
      recent: [],
      now: NOW,
    });
    expect(plan.changes.filter((c) => c.op === 'revoke')).toEqual([]);
    expect(plan.held.filter((c) => c.op === 'revoke')).toHaveLength(30);
    expect(plan.guard.verdict).toMatchObject({ tripped: true, count: 30, limit: 10 });
  });

  it('revoking an entitlement someone granted by hand since the last sync is drift, not counted', () => {
    const csys = wiki({ deletionGuard: { maxCount: 0 } });
    const drifted = { ...member('a'), status: { accounts: [{ system: 'wiki', state: 'present' as const, entitlements: ['all'] }] } };
    const plan = pass(csys, [drifted], [observed('a', 'present', ['all', 'root'])]);
    expect(plan.accounts[0]!.deprovisions).toBe(false);
    expect(plan.changes.filter((c) => c.op === 'revoke')).toEqual([{ op: 'revoke', userName: 'a', entitlement: 'root' }]);
    expect(plan.guard.verdict.tripped).toBe(false);
  });

  it("a revoke the User's status recorded as applied is a loss of access: a guard of 0 holds it", () => {
    const csys = wiki({ deletionGuard: { maxCount: 0 } });
    const mover = { ...member('a'), status: { accounts: [{ system: 'wiki', state: 'present' as const, entitlements: ['all', 'old'] }] } };
    const plan = pass(csys, [mover], [observed('a', 'present', ['all', 'old'])]);
    expect(plan.accounts[0]!.deprovisions).toBe(true);
    expect(plan.held.filter((c) => c.op === 'revoke')).toEqual([{ op: 'revoke', userName: 'a', entitlement: 'old' }]);
    expect(plan.changes.filter((c) => c.op === 'revoke')).toEqual([]);
  });
});

describe('refused entitlements', () => {
  const refuseRoot = (entitlement: string) => (entitlement === 'root' ? 'root is out of reach' : undefined);
  const admins = role('admins', { grants: grants({ wiki: ['all', 'root'] }) });
  const all = binding('all', { role: 'admins', userSelector: { matchLabels: { staff: 'yes' } } });
  const plan = (listing: ReturnType<typeof holding>) =>
    planSystemPass({
      system: wiki(),
      users: [member('a')],
      world: { bindings: [all], roles: [admins], systems: [wiki()] },
      listing,
      capabilities: FULL,
      refusal: refuseRoot,
      recent: [],
      now: NOW,
    });

  it('are left out of the plan and named with the reason', () => {
    const pass = plan([]);
    expect(pass.changes.filter((c) => c.op === 'grant')).toEqual([{ op: 'grant', userName: 'a', entitlement: 'all' }]);
    expect(pass.accounts[0]!.refused).toEqual([{ entitlement: 'root', reason: 'root is out of reach' }]);
    expect(pass.accounts[0]!.desired.entitlements).toEqual(['all']);
  });

  it('one held from before (granted before the refusal existed) is revoked', () => {
    const pass = plan([observed('a', 'present', ['all', 'root'])]);
    expect(pass.changes.filter((c) => c.op === 'revoke' || c.op === 'grant')).toEqual([{ op: 'revoke', userName: 'a', entitlement: 'root' }]);
  });
});

describe('decideGuard', () => {
  it('implicit accounts (RBAC) lose access by revokes, and the guard counts them', () => {
    const plan = planSystemPass({
      system: wiki(),
      users: ['a', 'b', 'c'].map((n) => member(n, 'terminated')),
      world: { bindings: [everyone], roles: [staff], systems: [wiki()] },
      listing: holding('a', 'b', 'c'),
      capabilities: IMPLICIT,
      recent: [],
      now: NOW,
    });
    expect(plan.held.every((c) => c.op === 'revoke')).toBe(true);
    expect(plan.held).toHaveLength(3);
    expect(plan.changes).toEqual([]);
    expect(plan.guard.verdict).toMatchObject({ tripped: true, count: 3, limit: 2 });
  });

  it('the window is resyncInterval back from now', () => {
    const decision = decideGuard({
      system: wiki({ resyncInterval: '1m' }),
      pending: [],
      recent: [
        { userName: 'a', at: at(-59_999) },
        { userName: 'b', at: at(-60_001) },
      ],
      managed: 10,
      tripped: false,
      now: NOW,
    });
    expect(decision.recent.map((r) => r.userName)).toEqual(['a']);
    expect(decision.count).toBe(1);
  });
});
