// spec.allowedEntitlements: globs, whole-name, with every other character literal.
import { describe, expect, it } from 'vitest';
import { caseIgnoreKey, caseOnlyKey } from '../../../src/connectors/ldap/matching.ts';
import { splitAllowed } from '../../../src/engine/index.ts';

describe('splitAllowed', () => {
  it.each([
    // patterns, entitlement, allowed
    [['eng-*'], 'eng-backend', true],
    [['eng-*'], 'eng-', true],
    [['eng-*'], 'xeng-backend', false], // anchored at the start
    [['eng'], 'engineering', false], // and at the end
    [['team-?'], 'team-a', true],
    [['team-?'], 'team-ab', false],
    [['a.b'], 'axb', false], // "." is literal
    [['(x|y)'], 'x', false], // so are parentheses and "|"
    [['(x|y)'], '(x|y)', true],
    [['ClusterRole/view', 'Role/*@payments'], 'Role/deployer@payments', true],
    [['ClusterRole/view', 'Role/*@payments'], 'ClusterRole/edit', false],
    [['*'], 'anything at all', true],
    [[], 'staff', false], // an empty list allows nothing
  ] as const)('%j admits %s: %s', (patterns, entitlement, allowed) => {
    const { allowed: yes, refused } = splitAllowed([...patterns], [entitlement]);
    expect(yes).toEqual(allowed ? [entitlement] : []);
    expect(refused.map((r) => r.entitlement)).toEqual(allowed ? [] : [entitlement]);
  });

  it('allows everything without the field, and names the field and patterns in a refusal', () => {
    expect(splitAllowed(undefined, ['a', 'b'])).toEqual({ allowed: ['a', 'b'], refused: [] });
    expect(splitAllowed(['eng-*', 'vpn'], ['admins']).refused).toEqual([
      { entitlement: 'admins', reason: 'not matched by spec.allowedEntitlements (eng-*, vpn)' },
    ]);
  });

  // In the server's terms: slapd finds `admins` when asked for `ａdmins` (fullwidth a), `ADMINS` or
  // ` admins `, so the list judges each as `admins`; the pattern's literal parts are keyed the same way.
  it.each([
    // patterns, entitlement, allowed under slapd's caseIgnoreMatch
    [['staff'], 'ａdmins', false], // a look-alike of a refused group stays refused
    [['staff'], 'ｓｔａｆｆ', true], // and one of an allowed group is that group
    [['admins'], 'ａdmins', true],
    [['team-*'], 'ＴＥＡＭ-x', true], // slapd grants team-x
    [['TEAM-*'], 'team-x', true], // the pattern's literal part is keyed too
    [['team-*'], 'ＴＥＡＭx', false],
    [['team *'], 'teamx', false], // the space before "*" is kept when the pattern is keyed
    [['team *'], 'team   x', true], // and the name's run of spaces folds to that one
    [['*-ro'], 'ADMINS-RO', true],
    [['ﬁle-?'], 'FILE-a', true], // the ligature is "fi" to slapd, in the pattern as in the name
    [['eng-?'], 'eng-ab', false],
    [['a.b'], 'A.B', true],
    [['a.b'], 'axb', false], // keyed, "." is still literal
    [['\uFDD0'], '\uFDD0', false], // a pattern holding the wildcard stand-in matches nothing
  ] as const)('keyed by slapd: %j admits %s: %s', (patterns, entitlement, allowed) => {
    const { allowed: yes } = splitAllowed([...patterns], [entitlement], caseIgnoreKey);
    expect(yes).toEqual(allowed ? [entitlement] : []);
  });

  it('keyed by Active Directory (case only): a fullwidth look-alike is another name', () => {
    expect(splitAllowed(['admins'], ['ADMINS', 'ａdmins'], caseOnlyKey)).toMatchObject({ allowed: ['ADMINS'], refused: [{ entitlement: 'ａdmins' }] });
  });
});
