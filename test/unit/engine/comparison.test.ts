// The engine compares through the connector's notion of equality (Capabilities.comparison): a held
// spelling the system treats as the declared one plans nothing, two declared spellings it treats as
// one are refused, and the status, the guard and the audit see it the same way.
import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../../../src/api/index.ts';
import {
  accountPlan,
  ambiguousEntitlements,
  attributeChanges,
  auditSystem,
  entitlementChanges,
  inDeclaredSpelling,
  planSystemPass,
  type World,
} from '../../../src/engine/index.ts';
import { FULL, NOW, binding, desired, grants, observed, role, system, user } from './fixtures.ts';

/** A system that finds names ignoring case, like an LDAP caseIgnoreMatch attribute. */
const CASELESS: Capabilities = {
  ...FULL,
  comparison: { rule: 'names match ignoring case', entitlementKey: (name) => name.toLowerCase() },
};
/** A system whose schema requires familyName and fills it with the user name when none is declared. */
const FILLS_FAMILY_NAME: Capabilities = {
  ...FULL,
  comparison: { rule: 'exact', attributeDefault: (attribute, userName) => (attribute === 'familyName' ? userName : undefined) },
};
/** A system that keeps e-mail addresses lower-cased, whatever was written. */
const LOWERS_EMAIL: Capabilities = {
  ...FULL,
  comparison: { rule: 'exact', attributeKey: (attribute, value) => (attribute === 'email' ? value.toLowerCase() : value) },
};

const steps = (changes: { op: string; entitlement?: string }[]) => changes.map((c) => `${c.op}:${c.entitlement ?? ''}`);

describe('entitlementChanges through the system key', () => {
  it('a held spelling the system treats as the declared one is neither granted nor revoked', () => {
    expect(entitlementChanges('ada', ['Engineering'], ['engineering'], CASELESS)).toEqual([]);
  });

  it('compared exactly without a comparison: the same pair grants and revokes', () => {
    expect(steps(entitlementChanges('ada', ['Engineering'], ['engineering'], FULL))).toEqual(['grant:Engineering', 'revoke:engineering']);
  });

  it('grants the declared spelling and revokes the held one when the keys differ', () => {
    expect(steps(entitlementChanges('ada', ['Ops'], ['engineering'], CASELESS))).toEqual(['grant:Ops', 'revoke:engineering']);
  });
});

describe('attributeChanges through the system comparison', () => {
  it('a declared familyName equal to the default the system fills in plans nothing (it would flap every pass)', () => {
    const want = desired('ada', 'present', [], { familyName: 'ada' });
    expect(attributeChanges(want, observed('ada', 'present', [], { familyName: 'ada' }), FILLS_FAMILY_NAME)).toEqual({});
  });

  it('an undeclared familyName is satisfied by the default, and another held value is cleared to it', () => {
    const want = desired('ada', 'present', [], {});
    expect(attributeChanges(want, observed('ada', 'present', [], { familyName: 'ada' }), FILLS_FAMILY_NAME)).toEqual({});
    expect(attributeChanges(want, observed('ada', 'present', [], { familyName: 'Lovelace' }), FILLS_FAMILY_NAME)).toEqual({ familyName: null });
  });

  it('values compare by attributeKey only where the system gives one', () => {
    const want = desired('ada', 'present', [], { email: 'Ada@Example.org', givenName: 'ADA' });
    const have = observed('ada', 'present', [], { email: 'ada@example.org', givenName: 'Ada' });
    expect(attributeChanges(want, have, LOWERS_EMAIL)).toEqual({ givenName: 'ADA' });
  });
});

describe('ambiguous declarations', () => {
  it('names every spelling of one key', () => {
    const [ambiguity, ...rest] = ambiguousEntitlements(['engineering', 'Engineering', 'ops'], CASELESS);
    expect(rest).toEqual([]);
    expect(ambiguity?.entitlements).toEqual(['Engineering', 'engineering']);
    expect(ambiguity?.reason).toContain('"Engineering" and "engineering"');
    expect(ambiguity?.reason).toContain('names match ignoring case');
  });

  it('accountPlan refuses both spellings and grants the rest; a second pass after applying plans nothing', () => {
    const ada = user('ada');
    const want = desired('ada', 'present', ['Engineering', 'engineering', 'ops']);
    const first = accountPlan(ada, want, observed('ada', 'present', []), CASELESS);
    expect(first.refused.map((r) => r.entitlement)).toEqual(['Engineering', 'engineering']);
    expect(first.refused[0]?.reason).toMatch(/"Engineering" and "engineering" are one entitlement/);
    expect(steps(first.changes)).toEqual(['grant:ops']);
    const second = accountPlan(ada, want, observed('ada', 'present', ['ops']), CASELESS);
    expect(second.changes).toEqual([]);
  });

  it('one held from before is revoked like any refused entitlement', () => {
    const plan = accountPlan(user('ada'), desired('ada', 'present', ['Engineering', 'engineering']), observed('ada', 'present', ['engineering']), CASELESS);
    expect(steps(plan.changes)).toEqual(['revoke:engineering']);
  });

  it('without a key nothing is ambiguous', () => {
    expect(ambiguousEntitlements(['Engineering', 'engineering'], FULL)).toEqual([]);
  });
});

describe('status, guard and audit in the system terms', () => {
  it('the status shows the declared spelling of what the system holds under it', () => {
    expect(inDeclaredSpelling(['engineering', 'vpn'], ['Engineering'], CASELESS)).toEqual(['Engineering', 'vpn']);
    expect(inDeclaredSpelling(['engineering'], ['Engineering'], FULL)).toEqual(['engineering']);
  });

  it('a revoke of what the status recorded under its declared spelling counts for the guard', () => {
    const recorded = { accounts: [{ system: 'ldap', state: 'present' as const, entitlements: ['Engineering'] }] };
    const ada = user('ada', {}, {}, recorded);
    const plan = accountPlan(ada, desired('ada', 'present', []), observed('ada', 'present', ['engineering']), CASELESS);
    expect(steps(plan.changes)).toEqual(['revoke:engineering']);
    expect(plan.deprovisions).toBe(true);
  });

  it('the audit finds nothing missing or extra when the system holds the declared name in its own spelling', () => {
    const wiki = system('wiki');
    const world: World = {
      systems: [wiki],
      roles: [role('staff', { grants: grants({ wiki: ['Engineering'] }) })],
      bindings: [binding('staff', { role: 'staff', users: ['ada'] })],
    };
    const users = [user('ada', { displayName: undefined, givenName: undefined, familyName: undefined, email: undefined })];
    const listing = [observed('ada', 'present', ['engineering'])];
    const pass = planSystemPass({ system: wiki, users, world, listing, capabilities: CASELESS, recent: [], now: NOW });
    expect(pass.changes).toEqual([]);
    expect(auditSystem({ pass, users, world, now: NOW, expiringWithinMs: 0 })).toEqual([]);
    const exact = planSystemPass({ system: wiki, users, world, listing, capabilities: FULL, recent: [], now: NOW });
    expect(auditSystem({ pass: exact, users, world, now: NOW, expiringWithinMs: 0 }).map((f) => f.kind)).toEqual(['creep', 'missing']);
  });
});
