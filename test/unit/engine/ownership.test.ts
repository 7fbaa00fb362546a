// Whose account is it: adopt, leave alone as a conflict, or plan as usual.
import { describe, expect, it } from 'vitest';
import type { AccountOwner, AdoptionPolicy, ObservedAccount } from '../../../src/api/index.ts';
import { accountPlan, decideOwnership } from '../../../src/engine/index.ts';
import { FULL, desired, observed, user } from './fixtures.ts';

const alice = desired('alice', 'present', ['staff'], { email: 'alice@example.org' });
const leaver = desired('alice', 'disabled');
const owned = (owner: AccountOwner | undefined, email = 'alice@example.org'): ObservedAccount => {
  const account = observed('alice', 'present', ['admins'], { email });
  return owner === undefined ? account : { ...account, owner };
};

describe('decideOwnership', () => {
  const table: [string, AccountOwner | undefined, AdoptionPolicy, 'present' | 'disabled', string][] = [
    ['own account', undefined, 'never', 'present', 'owned'],
    ['legacy marker, adoption never', 'legacy', 'never', 'present', 'adopt'],
    ['legacy marker, leaver', 'legacy', 'never', 'disabled', 'adopt'],
    ['unmanaged, never', 'unmanaged', 'never', 'present', 'conflict'],
    ['unmanaged, never, leaver', 'unmanaged', 'never', 'disabled', 'notOurs'],
    ['unmanaged, matchUserName', 'unmanaged', 'matchUserName', 'present', 'adopt'],
    ['unmanaged, matchEmail, same email', 'unmanaged', 'matchEmail', 'present', 'adopt'],
    ['another system, matchUserName', 'foreign', 'matchUserName', 'present', 'conflict'],
    ['another system, leaver', 'foreign', 'matchUserName', 'disabled', 'notOurs'],
  ];
  it.each(table)('%s', (_name, owner, adoption, state, kind) => {
    expect(decideOwnership(state === 'present' ? alice : leaver, owned(owner), adoption).kind).toBe(kind);
  });

  it('an account the connector calls not adoptable is a conflict naming why, whatever spec.adoption says; a leaver leaves it alone', () => {
    for (const owner of ['unmanaged', 'legacy'] as const) {
      for (const adoption of ['never', 'matchUserName', 'matchEmail'] as const) {
        const account = { ...owned(owner), notAdoptable: 'role "alice" has CREATEROLE' };
        expect(decideOwnership(alice, account, adoption)).toEqual({
          kind: 'conflict',
          message:
            'spec.userName alice: an account of that name exists that Rollcall does not manage and never takes over (role "alice" has CREATEROLE); it is left alone',
        });
        expect(decideOwnership(leaver, account, adoption).kind).toBe('notOurs');
      }
    }
  });

  it('matchEmail refuses an account whose email differs, and says so', () => {
    const decision = decideOwnership(alice, owned('unmanaged', 'mallory@example.org'), 'matchEmail');
    expect(decision).toMatchObject({ kind: 'conflict', message: expect.stringContaining('email does not match') });
  });
});

describe('accountPlan with ownership', () => {
  const person = user('alice');
  it('adopts first, then converges: grants before revokes, and the revoke counts for the guard', () => {
    const plan = accountPlan(person, alice, owned('unmanaged'), FULL, { adoption: 'matchUserName' });
    expect(plan.adopts).toBe('matchUserName');
    expect(plan.changes).toEqual([
      { op: 'adopt', userName: 'alice' },
      { op: 'grant', userName: 'alice', entitlement: 'staff' },
      { op: 'revoke', userName: 'alice', entitlement: 'admins' },
    ]);
  });

  it('a legacy-marked leaver is claimed and cut off', () => {
    const plan = accountPlan(person, leaver, owned('legacy'), FULL, { adoption: 'never' });
    expect(plan.changes.map((c) => c.op)).toEqual(['adopt', 'disable', 'revoke']);
    expect(plan.deprovisions).toBe(true);
  });

  it('a conflict changes nothing', () => {
    const plan = accountPlan(person, alice, owned('unmanaged'), FULL);
    expect(plan.changes).toEqual([]);
    expect(plan.conflict).toContain('spec.adoption');
  });
});

describe('planSystemPass with accounts outside the scope', () => {
  it('plans the adoption run would make, and no create over an account that is not ours', async () => {
    const { planSystemPass } = await import('../../../src/engine/index.ts');
    const { binding, grants, role, system, NOW } = await import('./fixtures.ts');
    const csys = system('ldap', { adoption: 'never' });
    const world = {
      bindings: [binding('all', { role: 'staff', users: ['alice', 'bob'] })],
      roles: [role('staff', { grants: grants({ ldap: ['staff'] }) })],
      systems: [csys],
    };
    const others = [
      { ...observed('alice', 'present', []), owner: 'legacy' as const },
      { ...observed('bob', 'present', []), owner: 'unmanaged' as const },
    ];
    const pass = planSystemPass({ system: csys, users: [user('alice'), user('bob')], world, listing: [], others, capabilities: FULL, recent: [], now: NOW });
    expect(pass.changes.map((c) => `${c.op} ${'userName' in c ? c.userName : ''}`)).toEqual(['adopt alice', 'update alice', 'grant alice']);
    expect(pass.accounts.find((a) => a.desired.userName === 'bob')?.conflict).toContain('spec.adoption');
  });
});
