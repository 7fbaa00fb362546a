// changeCause: the declaration behind each change, for the audit line.
import { describe, expect, it } from 'vitest';
import type { AccountChange } from '../../../src/api/index.ts';
import { changeCause, type Cause, type World } from '../../../src/engine/index.ts';
import { HOUR, NOW, approved, at, binding, grants, role, system, user } from './fixtures.ts';

const roles = [role('staff', { grants: grants({ wiki: ['all'] }) }), role('admin', { requiresApproval: true, grants: grants({ wiki: ['admin'] }) })];
const world = (...bindings: ReturnType<typeof binding>[]): World => ({ systems: [system('wiki')], roles, bindings });
const ann = user('ann');
const grant = (entitlement: string): AccountChange => ({ op: 'grant', userName: 'ann', entitlement });
const revoke = (entitlement: string): AccountChange => ({ op: 'revoke', userName: 'ann', entitlement });

const cases: Array<{ name: string; change: AccountChange; user?: ReturnType<typeof user>; world: World; want: Cause }> = [
  {
    name: 'a grant names the binding, its reason and ticket',
    change: grant('all'),
    world: world(binding('b', { role: 'staff', users: ['ann'], reason: 'joiner', ticket: 'HR-1' })),
    want: { kind: 'AccessBinding', name: 'b', reason: 'joiner', ticket: 'HR-1' },
  },
  {
    name: 'an approved grant says who approved',
    change: grant('admin'),
    world: world(approved(binding('b', { role: 'admin', users: ['ann'], requestedBy: 'dan' }), 'eve', roles, [ann])),
    want: { kind: 'AccessBinding', name: 'b', reason: 'approved by eve' },
  },
  {
    name: 'a revoke after the binding ended',
    change: revoke('all'),
    world: world(binding('b', { role: 'staff', users: ['ann'], validUntil: at(-HOUR) })),
    want: { kind: 'AccessBinding', name: 'b', reason: `ended at ${at(-HOUR)}` },
  },
  {
    name: 'a revoke after the approval was voided',
    change: revoke('admin'),
    world: world(
      binding('b', { role: 'admin', users: ['ann', 'bob'], requestedBy: 'dan', approval: { approvedBy: 'eve', scope: { role: 'admin', users: ['ann'] } } }),
    ),
    want: { kind: 'AccessBinding', name: 'b', reason: 'approval voided: users changed after eve approved' },
  },
  // The role ann still holds grants something else: it is not why "old" goes.
  {
    name: 'a revoke no binding grants any more',
    change: revoke('old'),
    world: world(binding('b', { role: 'staff', users: ['ann'] })),
    want: { kind: 'User', name: 'ann', reason: 'no longer granted by any binding' },
  },
  {
    name: "a mover's revoke names the binding that used to grant it, not the one still in force",
    change: revoke('all'),
    world: world(binding('admins', { role: 'admin', users: ['ann'] }), binding('staff', { role: 'staff', users: ['bob'] })),
    want: { kind: 'AccessBinding', name: 'staff', reason: 'no longer applies to this User' },
  },
  {
    name: 'a leaver',
    change: { op: 'disable', userName: 'ann' },
    user: user('ann', { state: 'terminated' }),
    world: world(binding('b', { role: 'staff', users: ['ann'] })),
    want: { kind: 'User', name: 'ann', reason: 'the User is terminated' },
  },
  {
    name: 'an attribute update',
    change: { op: 'update', userName: 'ann', attributes: { email: 'a@b' } },
    world: world(),
    want: { kind: 'User', name: 'ann', reason: "the User's attributes changed" },
  },
];

describe('changeCause', () => {
  it.each(cases)('$name', ({ change, user: subject, world: w, want }) => {
    expect(changeCause(change, subject ?? ann, 'wiki', w, NOW)).toEqual(want);
  });
});
