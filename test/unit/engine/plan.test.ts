import { describe, expect, it } from 'vitest';
import type { AccountChange, Capabilities, DesiredAccount, ObservedAccount } from '../../../src/api/index.ts';
import { planAccount, planChanges } from '../../../src/engine/index.ts';
import { FULL, IMPLICIT, NO_DISABLE, NO_ENTITLEMENTS, desired, observed } from './fixtures.ts';

const ATTRS = { givenName: 'Ada', familyName: 'Lovelace', email: 'ada@example.org', employeeType: 'employee' };
const STORED = { givenName: 'Ada', familyName: 'Lovelace', email: 'ada@example.org' };

/** Changes written compactly: "create", "grant:eng", "update:email=x,title=null". */
function brief(change: AccountChange): string {
  switch (change.op) {
    case 'create':
      return 'create';
    case 'update':
      return `update:${Object.entries(change.attributes)
        .map(([name, value]) => `${name}=${value}`)
        .join(',')}`;
    case 'grant':
    case 'revoke':
      return `${change.op}:${change.entitlement}`;
    default:
      return change.op;
  }
}

interface Case {
  name: string;
  want: DesiredAccount | undefined;
  have: ObservedAccount | undefined;
  capabilities?: Capabilities;
  steps: string[];
}

const cases: Case[] = [
  {
    name: 'new account: create then grants',
    want: desired('ada', 'present', ['eng', 'vpn'], ATTRS),
    have: undefined,
    steps: ['create', 'grant:eng', 'grant:vpn'],
  },
  { name: 'never creates a disabled account', want: desired('ada', 'disabled'), have: undefined, steps: [] },
  { name: 'never creates an absent account', want: desired('ada', 'absent'), have: undefined, steps: [] },
  { name: 'in sync → nothing', want: desired('ada', 'present', ['eng'], ATTRS), have: observed('ada', 'present', ['eng'], STORED), steps: [] },
  { name: 'already disabled → nothing', want: desired('ada', 'disabled', [], ATTRS), have: observed('ada', 'disabled', [], { givenName: 'Old' }), steps: [] },
  {
    name: 'mover: grants before revokes',
    want: desired('ada', 'present', ['eng', 'ops'], ATTRS),
    have: observed('ada', 'present', ['eng', 'sales'], STORED),
    steps: ['grant:ops', 'revoke:sales'],
  },
  {
    name: 'attribute changed and attribute removed → value and null; unstored attributes ignored',
    want: desired('ada', 'present', [], { givenName: 'Ada', email: 'new@example.org', employeeType: 'employee', title: 'Boss' }),
    have: observed('ada', 'present', [], { ...STORED, title: 'Old' }),
    steps: ['update:familyName=null,email=new@example.org'],
  },
  {
    name: 're-enable: enable, update, grants, revokes',
    want: desired('ada', 'present', ['eng'], ATTRS),
    have: observed('ada', 'disabled', ['old'], { ...STORED, givenName: 'A.' }),
    steps: ['enable', 'update:givenName=Ada', 'grant:eng', 'revoke:old'],
  },
  {
    name: 'leaver: cut off first (disable), then revokes',
    want: desired('ada', 'disabled'),
    have: observed('ada', 'present', ['eng', 'vpn']),
    steps: ['disable', 'revoke:eng', 'revoke:vpn'],
  },
  { name: 'delete: delete only', want: desired('ada', 'absent'), have: observed('ada', 'present', ['eng']), steps: ['delete'] },
  { name: 'delete of a disabled account', want: desired('ada', 'absent'), have: observed('ada', 'disabled'), steps: ['delete'] },
  { name: 'no desired entry: the account is not touched', want: undefined, have: observed('ada', 'present', ['eng']), steps: [] },
  {
    name: 'no disable capability: disabled falls back to revoking all, account kept',
    want: desired('ada', 'disabled'),
    have: observed('ada', 'present', ['eng', 'vpn']),
    capabilities: NO_DISABLE,
    steps: ['revoke:eng', 'revoke:vpn'],
  },
  {
    name: 'no disable capability, nothing left to revoke → nothing',
    want: desired('ada', 'disabled'),
    have: observed('ada', 'present'),
    capabilities: NO_DISABLE,
    steps: [],
  },
  {
    name: 'no entitlements capability: create only',
    want: desired('ada', 'present', ['eng'], ATTRS),
    have: undefined,
    capabilities: NO_ENTITLEMENTS,
    steps: ['create'],
  },
  {
    name: 'no entitlements capability: disable without revokes',
    want: desired('ada', 'disabled'),
    have: observed('ada', 'present', ['eng']),
    capabilities: NO_ENTITLEMENTS,
    steps: ['disable'],
  },
  {
    name: 'implicit accounts: present → grants only',
    want: desired('ada', 'present', ['ClusterRole/view'], ATTRS),
    have: undefined,
    capabilities: IMPLICIT,
    steps: ['grant:ClusterRole/view'],
  },
  {
    name: 'implicit accounts: mover → grants and revokes',
    want: desired('ada', 'present', ['Role/edit@a'], ATTRS),
    have: observed('ada', 'present', ['ClusterRole/view']),
    capabilities: IMPLICIT,
    steps: ['grant:Role/edit@a', 'revoke:ClusterRole/view'],
  },
  {
    name: 'implicit accounts: disabled → revoke all',
    want: desired('ada', 'disabled'),
    have: observed('ada', 'present', ['ClusterRole/view']),
    capabilities: IMPLICIT,
    steps: ['revoke:ClusterRole/view'],
  },
  {
    name: 'implicit accounts: absent → revoke all, never delete',
    want: desired('ada', 'absent'),
    have: observed('ada', 'present', ['a', 'b']),
    capabilities: IMPLICIT,
    steps: ['revoke:a', 'revoke:b'],
  },
  {
    name: 'implicit accounts: in sync → nothing',
    want: desired('ada', 'present', ['a'], ATTRS),
    have: observed('ada', 'present', ['a']),
    capabilities: IMPLICIT,
    steps: [],
  },
];

describe('planAccount', () => {
  it.each(cases)('$name', ({ want, have, capabilities = FULL, steps }) => {
    expect(planAccount(want, have, capabilities).map(brief)).toEqual(steps);
  });

  it('create carries only stored attributes and no entitlements', () => {
    const [create] = planAccount(desired('ada', 'present', ['eng'], ATTRS), undefined, FULL);
    expect(create).toEqual({ op: 'create', account: { system: 'ldap', userName: 'ada', state: 'present', attributes: STORED, entitlements: [] } });
  });
});

describe('planChanges', () => {
  it('matches by userName, keeps desired order, and leaves undeclared accounts alone', () => {
    const changes = planChanges(
      [desired('bob', 'absent'), desired('ada', 'present', ['eng'], ATTRS), desired('cy', 'present', [], ATTRS)],
      [observed('ada', 'present', [], STORED), observed('bob', 'present'), observed('zed', 'present', ['eng']), observed('cy', 'present', [], STORED)],
      FULL,
    );
    expect(changes).toEqual([
      { op: 'delete', userName: 'bob' },
      { op: 'grant', userName: 'ada', entitlement: 'eng' },
    ]);
  });

  it('everything in sync → []', () => {
    expect(planChanges([desired('ada', 'present', ['eng'], ATTRS)], [observed('ada', 'present', ['eng'], STORED)], FULL)).toEqual([]);
  });
});
