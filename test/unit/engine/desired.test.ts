import { describe, expect, it } from 'vitest';
import type { AccessBinding, AccessRole, ConnectedSystem, User } from '../../../src/api/index.ts';
import { accountAttributes, desiredAccounts } from '../../../src/engine/index.ts';
import { DAY, HOUR, MS, NOW, approved, at, binding, grants, role, system, user } from './fixtures.ts';

const SYSTEMS = [
  system('ldap', { deprovision: { policy: 'disable' } }),
  system('pg', { deprovision: { policy: 'delete' } }),
  system('scim', { deprovision: { policy: 'disableThenDelete', retention: '30d' } }),
];
const ROLES = [
  role('engineer', { grants: grants({ ldap: ['vpn', 'eng'], pg: ['readers'] }) }),
  role('analyst', { grants: grants({ pg: ['readers', 'analysts'] }) }),
  role('auditor', { grants: grants({ scim: [] }) }),
  role('admin', { requiresApproval: true, grants: grants({ ldap: ['admins'] }) }),
  role('oncall', { includes: ['admin'], grants: grants({ ldap: ['pager'] }) }),
  role('temp', { maxDuration: '8h', grants: grants({ pg: ['writers'] }) }),
  role('cycle-a', { includes: ['cycle-b', 'ghost'], grants: grants({ ldap: ['a'] }) }),
  role('cycle-b', { includes: ['cycle-a'], grants: grants({ ldap: ['b'] }) }),
];
const ALICE = user('alice', {}, { labels: { team: 'data', tier: 'gold' } });
const ENGINEER = binding('alice-engineer', { role: 'engineer', users: ['alice'] });
const holds = (...systems: string[]) => ({ accounts: systems.map((name) => ({ system: name, state: 'present' as const })) });

interface Case {
  name: string;
  user?: User;
  bindings: AccessBinding[];
  roles?: AccessRole[];
  systems?: ConnectedSystem[];
  now?: Date;
  /** system → "state:entitlement,entitlement" */
  want: Record<string, string>;
}

const cases: Case[] = [
  {
    name: 'active user bound to a role gets present accounts with sorted entitlements',
    bindings: [ENGINEER],
    want: { ldap: 'present:eng,vpn', pg: 'present:readers' },
  },
  {
    name: 'entitlements of two bindings are unioned without duplicates',
    bindings: [ENGINEER, binding('b2', { role: 'analyst', users: ['alice'] })],
    want: { ldap: 'present:eng,vpn', pg: 'present:analysts,readers' },
  },
  { name: 'a role with an empty grant still gives an account', bindings: [binding('b', { role: 'auditor', users: ['alice'] })], want: { scim: 'present:' } },
  { name: 'no binding and no account gives no entries', bindings: [], want: {} },
  { name: 'a binding naming another user does not apply', bindings: [binding('b', { role: 'engineer', users: ['bob'] })], want: {} },
  { name: 'a missing role grants nothing', bindings: [binding('b', { role: 'nobody', users: ['alice'] })], want: {} },
  {
    name: 'cross-namespace binding is ignored',
    bindings: [binding('b', { role: 'engineer', users: ['alice'] }, { namespace: 'team-b' })],
    want: {},
  },
  {
    name: 'cross-namespace role is ignored',
    bindings: [ENGINEER],
    roles: [role('engineer', { grants: grants({ ldap: ['eng'] }) }, { namespace: 'team-b' })],
    want: {},
  },
  { name: 'cross-namespace system is ignored', bindings: [ENGINEER], systems: [system('ldap', {}, { namespace: 'team-b' })], want: {} },
  {
    name: 'a suspended system is omitted entirely',
    bindings: [ENGINEER],
    systems: [system('ldap', { suspend: true }), SYSTEMS[1]!],
    user: user('alice', {}, {}, holds('ldap')),
    want: { pg: 'present:readers' },
  },
  {
    name: 'selector matchLabels selects the user',
    bindings: [binding('b', { role: 'auditor', userSelector: { matchLabels: { team: 'data' } } })],
    want: { scim: 'present:' },
  },
  {
    name: 'selector matchLabels with another value does not',
    bindings: [binding('b', { role: 'auditor', userSelector: { matchLabels: { team: 'web' } } })],
    want: {},
  },
  {
    name: 'selector In / NotIn / Exists / DoesNotExist all holding selects the user',
    bindings: [
      binding('b', {
        role: 'auditor',
        userSelector: {
          matchExpressions: [
            { key: 'tier', operator: 'In', values: ['gold', 'silver'] },
            { key: 'team', operator: 'NotIn', values: ['web'] },
            { key: 'team', operator: 'Exists' },
            { key: 'contractor', operator: 'DoesNotExist' },
          ],
        },
      }),
    ],
    want: { scim: 'present:' },
  },
  {
    name: 'selector NotIn excluding the user value does not select',
    bindings: [binding('b', { role: 'auditor', userSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] } })],
    want: {},
  },
  {
    name: 'selector DoesNotExist on a present label does not select',
    bindings: [binding('b', { role: 'auditor', userSelector: { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] } })],
    want: {},
  },
  {
    name: 'selector In on a missing label does not select',
    bindings: [binding('b', { role: 'auditor', userSelector: { matchExpressions: [{ key: 'site', operator: 'In', values: ['x'] }] } })],
    want: {},
  },
  {
    name: 'binding exactly at validFrom has started',
    bindings: [binding('b', { role: 'analyst', users: ['alice'], validFrom: at(0) })],
    want: { pg: 'present:analysts,readers' },
  },
  { name: 'binding 1 ms before validFrom has not started', bindings: [binding('b', { role: 'analyst', users: ['alice'], validFrom: at(1 * MS) })], want: {} },
  {
    name: 'binding 1 ms before validUntil is still in force',
    bindings: [binding('b', { role: 'analyst', users: ['alice'], validUntil: at(1 * MS) })],
    want: { pg: 'present:analysts,readers' },
  },
  {
    name: 'binding exactly at validUntil has ended: held account follows the delete policy',
    user: user('alice', {}, {}, holds('pg')),
    bindings: [binding('b', { role: 'analyst', users: ['alice'], validUntil: at(0) })],
    want: { pg: 'absent:' },
  },
  {
    name: 'maxDuration caps a longer binding, counted from validFrom',
    user: user('alice', {}, {}, holds('pg')),
    bindings: [binding('b', { role: 'temp', users: ['alice'], validFrom: at(-8 * HOUR), validUntil: at(DAY) })],
    want: { pg: 'absent:' },
  },
  {
    name: 'maxDuration cap 1 ms before its end still grants',
    bindings: [binding('b', { role: 'temp', users: ['alice'], validFrom: at(-8 * HOUR + 1 * MS) })],
    want: { pg: 'present:writers' },
  },
  {
    name: 'maxDuration without validFrom counts from the binding creation',
    user: user('alice', {}, {}, holds('pg')),
    bindings: [binding('b', { role: 'temp', users: ['alice'] }, { creationTimestamp: at(-9 * HOUR) })],
    want: { pg: 'absent:' },
  },
  { name: 'requiresApproval without approval grants nothing', bindings: [binding('b', { role: 'admin', users: ['alice'] })], want: {} },
  {
    name: 'requiresApproval with approval grants',
    bindings: [approved(binding('b', { role: 'admin', users: ['alice'], requestedBy: 'dave' }), 'carol', ROLES, [ALICE])],
    want: { ldap: 'present:admins' },
  },
  {
    name: 'an approval is void once the binding changes after it',
    bindings: [
      binding('b', {
        role: 'admin',
        users: ['alice', 'bob'],
        requestedBy: 'dave',
        approval: { approvedBy: 'carol', scope: { role: 'admin', users: ['alice'] } },
      }),
    ],
    want: {},
  },
  {
    name: 'a self-approval grants nothing',
    bindings: [
      binding('b', { role: 'admin', users: ['alice'], requestedBy: 'carol', approval: { approvedBy: 'carol', scope: { role: 'admin', users: ['alice'] } } }),
    ],
    want: {},
  },
  {
    name: 'the approver cannot approve their own access, even through a selector',
    user: user('alice', {}, { labels: { team: 'ops' } }),
    bindings: [
      binding('b', {
        role: 'admin',
        userSelector: { matchLabels: { team: 'ops' } },
        requestedBy: 'dave',
        approval: { approvedBy: 'alice', scope: { role: 'admin', userSelector: { matchLabels: { team: 'ops' } } } },
      }),
    ],
    want: {},
  },
  { name: 'approval required by an included role blocks the including role', bindings: [binding('b', { role: 'oncall', users: ['alice'] })], want: {} },
  {
    name: 'includes are followed transitively, a cycle and a missing role are harmless',
    bindings: [binding('b', { role: 'cycle-a', users: ['alice'] })],
    want: { ldap: 'present:a,b' },
  },
  {
    name: 'user exactly at its validUntil is expired: held accounts follow each policy',
    user: user('alice', { validUntil: at(0) }, {}, holds('ldap', 'pg', 'scim')),
    bindings: [ENGINEER, binding('b2', { role: 'auditor', users: ['alice'] })],
    want: { ldap: 'disabled:', pg: 'absent:', scim: 'disabled:' },
  },
  {
    name: 'user 1 ms before its validUntil still has access',
    user: user('alice', { validUntil: at(1 * MS) }),
    bindings: [ENGINEER],
    want: { ldap: 'present:eng,vpn', pg: 'present:readers' },
  },
  {
    name: 'user exactly at its validFrom has started',
    user: user('alice', { validFrom: at(0) }),
    bindings: [ENGINEER],
    want: { ldap: 'present:eng,vpn', pg: 'present:readers' },
  },
  { name: 'joiner 1 ms before validFrom holding nothing gets no entry', user: user('alice', { validFrom: at(1 * MS) }), bindings: [ENGINEER], want: {} },
  {
    name: 'joiner before validFrom who holds an account gets it deprovisioned',
    user: user('alice', { validFrom: at(DAY) }, {}, holds('ldap')),
    bindings: [ENGINEER],
    want: { ldap: 'disabled:' },
  },
  {
    name: 'clock in the past: a contractor before the start of a future window gets nothing',
    user: user('alice', { validFrom: '2027-01-01T00:00:00Z', validUntil: '2027-06-01T00:00:00Z' }),
    bindings: [ENGINEER],
    want: {},
  },
  {
    name: 'clock in the future: long after validUntil held accounts are deprovisioned',
    user: user('alice', { validFrom: '2020-01-01T00:00:00Z', validUntil: '2021-01-01T00:00:00Z' }, {}, holds('ldap', 'pg')),
    bindings: [ENGINEER],
    want: { ldap: 'disabled:', pg: 'absent:' },
  },
  {
    name: 'suspended user is disabled everywhere, whatever the policy',
    user: user('alice', { state: 'suspended' }, {}, holds('ldap', 'pg', 'scim')),
    bindings: [ENGINEER],
    want: { ldap: 'disabled:', pg: 'disabled:', scim: 'disabled:' },
  },
  {
    name: 'terminated user: disable, delete and disableThenDelete (within retention)',
    user: user('alice', { state: 'terminated' }, {}, { deprovisionStartedAt: at(-29 * DAY), ...holds('ldap', 'pg', 'scim') }),
    bindings: [ENGINEER],
    want: { ldap: 'disabled:', pg: 'absent:', scim: 'disabled:' },
  },
  {
    name: 'disableThenDelete 1 ms before retention ends keeps the account disabled',
    user: user('alice', { state: 'terminated' }, {}, { deprovisionStartedAt: at(-30 * DAY + 1 * MS), ...holds('scim') }),
    bindings: [],
    want: { scim: 'disabled:' },
  },
  {
    name: 'disableThenDelete exactly at the end of retention deletes',
    user: user('alice', { state: 'terminated' }, {}, { deprovisionStartedAt: at(-30 * DAY), ...holds('scim') }),
    bindings: [],
    want: { scim: 'absent:' },
  },
  {
    name: 'a mover who lost the system: disableThenDelete counts from the account disabledAt, still within retention',
    user: user('alice', {}, {}, { accounts: [{ system: 'scim', state: 'disabled', disabledAt: at(-29 * DAY) }] }),
    bindings: [ENGINEER],
    want: { ldap: 'present:eng,vpn', pg: 'present:readers', scim: 'disabled:' },
  },
  {
    name: 'a mover who lost the system: deleted once retention from disabledAt has passed',
    user: user('alice', {}, {}, { accounts: [{ system: 'scim', state: 'disabled', disabledAt: at(-30 * DAY) }] }),
    bindings: [ENGINEER],
    want: { ldap: 'present:eng,vpn', pg: 'present:readers', scim: 'absent:' },
  },
  {
    name: 'disableThenDelete without deprovisionStartedAt counts from now',
    user: user('alice', { state: 'terminated' }, {}, holds('scim')),
    bindings: [],
    want: { scim: 'disabled:' },
  },
  {
    name: 'deletionTimestamp deprovisions even an active user',
    user: user('alice', {}, { deletionTimestamp: at(-1 * MS) }, holds('ldap', 'pg')),
    bindings: [ENGINEER],
    want: { ldap: 'disabled:', pg: 'absent:' },
  },
  {
    name: 'a deleted suspended user follows the policy, not the suspension',
    user: user('alice', { state: 'suspended' }, { deletionTimestamp: at(0) }, holds('pg')),
    bindings: [ENGINEER],
    want: { ldap: 'disabled:', pg: 'absent:' },
  },
  {
    name: 'mover: an account no longer reached by any binding follows the policy',
    user: user('alice', {}, {}, holds('ldap', 'pg')),
    bindings: [binding('b', { role: 'analyst', users: ['alice'] })],
    want: { ldap: 'disabled:', pg: 'present:analysts,readers' },
  },
  {
    name: 'a status entry already absent does not count as held',
    user: user('alice', {}, {}, { accounts: [{ system: 'pg', state: 'absent' }] }),
    bindings: [],
    want: {},
  },
  {
    name: 'an account in error counts as held',
    user: user('alice', {}, {}, { accounts: [{ system: 'pg', state: 'error' }] }),
    bindings: [],
    want: { pg: 'absent:' },
  },
];

describe('desiredAccounts', () => {
  it.each(cases)('$name', ({ user: subject = ALICE, bindings, roles = ROLES, systems = SYSTEMS, now = NOW, want }) => {
    const accounts = desiredAccounts(subject, bindings, roles, systems, now);
    const got = Object.fromEntries(accounts.map((account) => [account.system, `${account.state}:${account.entitlements.join(',')}`]));
    expect(got).toEqual(want);
    for (const account of accounts) expect(account.userName).toBe(subject.spec.userName);
  });

  it('carries the canonical attributes on every entry', () => {
    const [account] = desiredAccounts(ALICE, [binding('b', { role: 'auditor', users: ['alice'] })], ROLES, SYSTEMS, NOW);
    expect(account?.attributes).toEqual({
      givenName: 'Ada',
      familyName: 'Lovelace',
      displayName: 'Ada Lovelace',
      email: 'alice@example.org',
      employeeType: 'employee',
    });
  });
});

describe('accountAttributes', () => {
  it.each([
    { name: 'displayName defaults to given + family', spec: {}, want: { displayName: 'Ada Lovelace' } },
    { name: 'displayName is trimmed with only a given name', spec: { familyName: undefined }, want: { displayName: 'Ada', familyName: undefined } },
    { name: 'no names → no displayName', spec: { givenName: undefined, familyName: undefined }, want: { displayName: undefined, givenName: undefined } },
    { name: 'explicit displayName wins', spec: { displayName: 'Countess' }, want: { displayName: 'Countess' } },
    { name: 'empty values are omitted', spec: { department: '', title: 'Analyst' }, want: { department: undefined, title: 'Analyst' } },
    {
      name: 'free attributes are added, canonical fields win a clash',
      spec: { attributes: { shell: '/bin/zsh', email: 'x@y.z' } },
      want: { shell: '/bin/zsh', email: 'alice@example.org' },
    },
  ])('$name', ({ spec, want }) => {
    const attributes = accountAttributes(user('alice', spec));
    for (const [name, value] of Object.entries(want)) expect(attributes[name]).toBe(value);
    expect(Object.values(attributes)).not.toContain('');
  });
});
