// The deletion guard's percentage cannot be inflated with filler accounts: a tenant who may write
// Users can create hundreds in a minute, and counted at once they would raise "20 % of managed" far
// enough to let a mass revoke of the real people through. The base counts an account only once its
// User has existed for a whole guard window (resyncInterval); both `rollcall plan` and the reconcile
// loop read it from guardBase.
import { describe, expect, it } from 'vitest';
import type { ConnectedSystem, User } from '../../../src/api/index.ts';
import { guardBase, planSystemPass } from '../../../src/engine/index.ts';
import { FULL, NOW, at, binding, grants, observed, role, system, user } from './fixtures.ts';

const MINUTE = 60_000;
const staff = role('staff', { grants: grants({ wiki: ['all'] }) });
const everyone = binding('everyone', { role: 'staff', userSelector: { matchLabels: { staff: 'yes' } } });
// The role the real people held, now deleted: their `ops` is revoked.
const opsBinding = binding('ops', { role: 'ops', userSelector: { matchLabels: { ops: 'yes' } } });

/** A real person: a User for months, holding `all` and `ops` (recorded in its status as applied). */
function real(name: string): User {
  const person = user(name, {}, { labels: { staff: 'yes', ops: 'yes' } });
  return { ...person, status: { accounts: [{ system: 'wiki', state: 'present', entitlements: ['all', 'ops'] }] } };
}
/** A filler: a User created `agoMs` before now, holding `all`. */
function filler(name: string, agoMs: number): User {
  const made = user(name, {}, { labels: { staff: 'yes' }, creationTimestamp: at(-agoMs) });
  return { ...made, status: { accounts: [{ system: 'wiki', state: 'present', entitlements: ['all'] }] } };
}
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

function revokeOps(csys: ConnectedSystem, realCount: number, fillerCount: number, fillerAgeMs: number) {
  const reals = names('person', realCount).map(real);
  const fillers = names('filler', fillerCount).map((n) => filler(n, fillerAgeMs));
  const listing = [
    ...reals.map((u) => observed(u.spec.userName, 'present', ['all', 'ops'])),
    ...fillers.map((u) => observed(u.spec.userName, 'present', ['all'])),
  ];
  // The AccessRole `ops` is gone: every real person loses `ops`.
  return planSystemPass({
    system: csys,
    users: [...reals, ...fillers],
    world: { bindings: [everyone, opsBinding], roles: [staff], systems: [csys] },
    listing,
    capabilities: FULL,
    recent: [],
    now: NOW,
  });
}

describe('the deletion guard against filler accounts', () => {
  it("10 real Users and 200 fillers created just now: revoking the real Users' role is held (maxPercent 20 of 10, not of 210)", () => {
    const plan = revokeOps(system('wiki', { resyncInterval: '5m', deletionGuard: { maxPercent: 20 } }), 10, 200, MINUTE);
    expect(plan.guard).toMatchObject({ count: 10, managed: 10, limit: 2, verdict: { tripped: true } });
    expect(plan.held.filter((c) => c.op === 'revoke')).toHaveLength(10);
    expect(plan.changes.filter((c) => c.op === 'revoke')).toEqual([]);
  });

  it('the default guard (10 or 20 %, whichever is larger) is not raised by 400 fillers either', () => {
    const plan = revokeOps(system('wiki', { resyncInterval: '5m' }), 20, 400, MINUTE);
    expect(plan.guard).toMatchObject({ count: 20, managed: 20, limit: 10, verdict: { tripped: true } });
  });

  it('maxPercent 100 stays off when every User is new (an empty base must not make the limit 0)', () => {
    const fresh = names('new', 5).map((n) => {
      const made = user(n, {}, { labels: { staff: 'yes', ops: 'yes' }, creationTimestamp: at(-MINUTE) });
      return { ...made, status: { accounts: [{ system: 'wiki', state: 'present' as const, entitlements: ['all', 'ops'] }] } };
    });
    const csys = system('wiki', { resyncInterval: '5m', deletionGuard: { maxPercent: 100 } });
    const listing = fresh.map((u) => observed(u.spec.userName, 'present', ['all', 'ops']));
    const plan = planSystemPass({
      system: csys,
      users: fresh,
      world: { bindings: [everyone, opsBinding], roles: [staff], systems: [csys] },
      listing,
      capabilities: FULL,
      recent: [],
      now: NOW,
    });
    expect(plan.guard).toMatchObject({ count: 5, managed: 0, verdict: { tripped: false } });
    expect(plan.changes.filter((c) => c.op === 'revoke')).toHaveLength(5);
  });

  it('accounts of Users older than the window count: the rule only delays fillers, it does not shrink a real system', () => {
    const plan = revokeOps(system('wiki', { resyncInterval: '5m', deletionGuard: { maxPercent: 20 } }), 10, 200, 6 * MINUTE);
    expect(plan.guard).toMatchObject({ managed: 210, limit: 42, verdict: { tripped: false } });
  });

  it('guardBase: orphans and accounts of old Users count, accounts of Users created within the window do not', () => {
    const csys = system('wiki', { resyncInterval: '5m' });
    const users = [user('old'), user('young', {}, { creationTimestamp: at(-4 * MINUTE) }), user('edge', {}, { creationTimestamp: at(-5 * MINUTE) })];
    expect(guardBase(csys, ['old', 'young', 'edge', 'orphan'], users, NOW)).toBe(3);
  });
});
