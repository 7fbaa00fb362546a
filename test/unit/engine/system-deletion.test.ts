// A ConnectedSystem deleted under deletionPolicy deprovision: its last pass disables (or deletes)
// every account it manages, and the deletion guard counts them like any other deprovision, so that
// `rollcall plan` shows what the controller's finalizer will do, and what it holds.
import { describe, expect, it } from 'vitest';
import { changeUserName, type ConnectedSystem } from '../../../src/api/index.ts';
import { planSystemDeletion, planSystemPass } from '../../../src/engine/index.ts';
import { FULL, NOW, at, observed, system, user } from './fixtures.ts';

const names = Array.from({ length: 20 }, (_, i) => `u${String(i).padStart(2, '0')}`);
const listing = names.map((n) => observed(n, 'present', ['all']));
const deleted = (spec: Partial<ConnectedSystem['spec']>, annotations?: Record<string, string>) =>
  system(
    'wiki',
    { resyncInterval: '5m', deletionPolicy: 'deprovision', deletionGuard: { maxCount: 1 }, ...spec },
    { deletionTimestamp: at(-1000), ...(annotations && { annotations }) },
  );
const passOf = (csys: ConnectedSystem) =>
  planSystemPass({
    system: csys,
    users: [user('u00')],
    world: { bindings: [], roles: [], systems: [csys] },
    listing,
    capabilities: FULL,
    recent: [],
    now: NOW,
  });

describe('deleting a system under deletionPolicy deprovision', () => {
  it('plans a disable for every managed account (delete under deprovision.policy delete), nothing for one already disabled', () => {
    const plans = planSystemDeletion(deleted({}), [...listing.slice(0, 2), observed('gone', 'disabled')], FULL);
    expect(plans.map((p) => [p.userName, p.deprovisions, p.changes.map((c) => c.op)])).toEqual([
      ['u00', true, ['disable', 'revoke']],
      ['u01', true, ['disable', 'revoke']],
    ]);
    expect(planSystemDeletion(deleted({ deprovision: { policy: 'delete' } }), listing.slice(0, 1), FULL)[0]!.changes.map((c) => c.op)).toEqual(['delete']);
  });

  it('past the deletion guard the whole deletion is held, and plan says so with the count to approve', () => {
    const plan = passOf(deleted({}));
    expect(plan.guard.verdict).toMatchObject({ tripped: true, count: 20, limit: 1 });
    expect(plan.changes).toEqual([]);
    expect(new Set(plan.held.map(changeUserName)).size).toBe(20);
  });

  it('the approval of the count shown releases it', () => {
    const plan = passOf(deleted({}, { 'rollcall.dev/approve-deprovision': '20' }));
    expect(plan.guard.verdict.tripped).toBe(false);
    expect(plan.changes.filter((c) => c.op === 'disable')).toHaveLength(20);
  });

  it('a system that is not being deleted, or retains its accounts, has no deletion pass', () => {
    expect(passOf(system('wiki', { deletionPolicy: 'deprovision' })).deletion).toBeUndefined();
    expect(passOf(deleted({ deletionPolicy: 'retain' })).deletion).toBeUndefined();
  });
});
