// spec.allowedEntitlements: globs, whole-name, with every other character literal.
import { describe, expect, it } from 'vitest';
import { splitAllowed } from '../../../src/engine/index.ts';

const system = (allowedEntitlements?: string[]) => ({ spec: { allowedEntitlements } }) as never;

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
    const { allowed: yes, refused } = splitAllowed(system([...patterns]), [entitlement]);
    expect(yes).toEqual(allowed ? [entitlement] : []);
    expect(refused.map((r) => r.entitlement)).toEqual(allowed ? [] : [entitlement]);
  });

  it('allows everything without the field, and names the field and patterns in a refusal', () => {
    expect(splitAllowed(system(undefined), ['a', 'b'])).toEqual({ allowed: ['a', 'b'], refused: [] });
    expect(splitAllowed(system(['eng-*', 'vpn']), ['admins']).refused).toEqual([{ entitlement: 'admins', reason: 'not matched by spec.allowedEntitlements (eng-*, vpn)' }]);
  });
});
