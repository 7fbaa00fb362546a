import { describe, expect, it } from 'vitest';
import type { AccountChange, Capabilities } from '../../../src/api/index.ts';
import { planOrphans, type OrphanPolicy } from '../../../src/engine/index.ts';
import { FULL, IMPLICIT, NO_DISABLE, observed } from './fixtures.ts';

const OBSERVED = [observed('ada', 'present', ['eng']), observed('old', 'present', ['eng', 'vpn']), observed('gone', 'disabled')];
const DECLARED = new Set(['ada']);

const cases: Array<{ policy: OrphanPolicy; capabilities?: Capabilities; changes: AccountChange[] }> = [
  { policy: 'report', changes: [] },
  { policy: 'ignore', changes: [] },
  { policy: 'disable', changes: [{ op: 'disable', userName: 'old' }] },
  {
    policy: 'disable',
    capabilities: NO_DISABLE,
    changes: [
      { op: 'revoke', userName: 'old', entitlement: 'eng' },
      { op: 'revoke', userName: 'old', entitlement: 'vpn' },
    ],
  },
  {
    policy: 'delete',
    changes: [
      { op: 'delete', userName: 'old' },
      { op: 'delete', userName: 'gone' },
    ],
  },
  {
    policy: 'delete',
    capabilities: IMPLICIT,
    changes: [
      { op: 'revoke', userName: 'old', entitlement: 'eng' },
      { op: 'revoke', userName: 'old', entitlement: 'vpn' },
    ],
  },
  {
    policy: 'disable',
    capabilities: IMPLICIT,
    changes: [
      { op: 'revoke', userName: 'old', entitlement: 'eng' },
      { op: 'revoke', userName: 'old', entitlement: 'vpn' },
    ],
  },
];

describe('planOrphans', () => {
  it.each(cases)('$policy with $capabilities.disable/$capabilities.implicitAccounts', ({ policy, capabilities = FULL, changes }) => {
    const plan = planOrphans(OBSERVED, DECLARED, policy, capabilities);
    expect(plan.orphans.map((orphan) => orphan.userName)).toEqual(['old', 'gone']);
    expect(plan.changes).toEqual(changes);
  });

  it('every account declared → no orphans', () => {
    expect(planOrphans(OBSERVED, new Set(['ada', 'old', 'gone']), 'delete', FULL)).toEqual({ orphans: [], changes: [] });
  });
});
