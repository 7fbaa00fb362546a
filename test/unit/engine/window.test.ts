import { describe, expect, it } from 'vitest';
import type { AccessBinding, ConnectedSystem, User } from '../../../src/api/index.ts';
import { accessWindow } from '../../../src/engine/index.ts';
import { DAY, HOUR, NOW, at, binding, grants, role, system, user } from './fixtures.ts';

const SYSTEMS = [system('ldap'), system('scim', { deprovision: { policy: 'disableThenDelete', retention: '30d' } }), system('frozen', { suspend: true })];
const ROLES = [
  role('engineer', { grants: grants({ ldap: ['eng'] }) }),
  role('temp', { maxDuration: '8h', grants: grants({ ldap: ['admin'] }) }),
  role('frozen-only', { grants: grants({ frozen: ['x'] }) }),
  role('admin', { requiresApproval: true, grants: grants({ ldap: ['root'] }) }),
];
const forAlice = (name: string, spec: Partial<AccessBinding['spec']> & { role: string }) => binding(name, { users: ['alice'], ...spec });

interface Case {
  name: string;
  user?: User;
  bindings: AccessBinding[];
  systems?: ConnectedSystem[];
  accessEndsAt?: string;
  nextWakeAt?: string;
}

const cases: Case[] = [
  { name: 'unbounded access, nothing scheduled', bindings: [forAlice('b', { role: 'engineer' })] },
  { name: 'no bindings: no access, no end', bindings: [] },
  {
    name: 'user validUntil ends access',
    user: user('alice', { validUntil: at(DAY) }),
    bindings: [forAlice('b', { role: 'engineer' })],
    accessEndsAt: at(DAY),
    nextWakeAt: at(DAY),
  },
  {
    name: 'the latest binding end wins when every binding ends',
    bindings: [forAlice('a', { role: 'engineer', validUntil: at(HOUR) }), forAlice('b', { role: 'engineer', validUntil: at(2 * HOUR) })],
    accessEndsAt: at(2 * HOUR),
    nextWakeAt: at(HOUR),
  },
  {
    name: 'an unbounded binding leaves only the user end',
    user: user('alice', { validUntil: at(DAY) }),
    bindings: [forAlice('a', { role: 'engineer', validUntil: at(HOUR) }), forAlice('b', { role: 'engineer' })],
    accessEndsAt: at(DAY),
    nextWakeAt: at(HOUR),
  },
  {
    name: 'the user end caps a later binding end',
    user: user('alice', { validUntil: at(HOUR) }),
    bindings: [forAlice('a', { role: 'engineer', validUntil: at(DAY) })],
    accessEndsAt: at(HOUR),
    nextWakeAt: at(HOUR),
  },
  { name: 'maxDuration capped end', bindings: [forAlice('a', { role: 'temp', validFrom: at(-HOUR) })], accessEndsAt: at(7 * HOUR), nextWakeAt: at(7 * HOUR) },
  {
    name: 'a future binding is a wake-up but not access',
    bindings: [forAlice('a', { role: 'engineer', validFrom: at(HOUR), validUntil: at(DAY) })],
    nextWakeAt: at(HOUR),
  },
  { name: 'binding exactly ending now is not a wake-up', bindings: [forAlice('a', { role: 'engineer', validUntil: at(0) })] },
  {
    name: 'a joiner wakes at its validFrom',
    user: user('alice', { validFrom: at(DAY) }),
    bindings: [forAlice('b', { role: 'engineer' })],
    nextWakeAt: at(DAY),
  },
  {
    name: 'a binding reaching only a suspended system gives no access',
    bindings: [forAlice('a', { role: 'frozen-only', validUntil: at(HOUR) })],
    nextWakeAt: at(HOUR),
  },
  { name: 'an unapproved binding gives no access', bindings: [forAlice('a', { role: 'admin', validUntil: at(HOUR) })], nextWakeAt: at(HOUR) },
  {
    name: 'cross-namespace binding is ignored',
    bindings: [binding('a', { role: 'engineer', users: ['alice'], validUntil: at(HOUR) }, { namespace: 'other' })],
  },
  {
    name: 'terminated user wakes when retention ends',
    user: user('alice', { state: 'terminated' }, {}, { deprovisionStartedAt: at(-DAY), accounts: [{ system: 'scim', state: 'disabled' }] }),
    bindings: [forAlice('b', { role: 'engineer' })],
    nextWakeAt: at(29 * DAY),
  },
  {
    name: 'an active mover wakes when the retention of an account it lost ends',
    user: user('alice', {}, {}, { accounts: [{ system: 'scim', state: 'disabled', disabledAt: at(-DAY) }] }),
    bindings: [forAlice('b', { role: 'engineer' })],
    nextWakeAt: at(29 * DAY),
  },
  {
    name: 'retention already over is not a wake-up',
    user: user('alice', { state: 'terminated' }, {}, { deprovisionStartedAt: at(-31 * DAY) }),
    bindings: [],
  },
];

describe('accessWindow', () => {
  it.each(cases)('$name', ({ user: subject = user('alice'), bindings, systems = SYSTEMS, accessEndsAt, nextWakeAt }) => {
    const window = accessWindow(subject, bindings, ROLES, systems, NOW);
    expect(window.accessEndsAt?.toISOString()).toBe(accessEndsAt);
    expect(window.nextWakeAt?.toISOString()).toBe(nextWakeAt);
  });
});
