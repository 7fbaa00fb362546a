// Tenant patterns run on RE2 (re2js): linear in the input, so a pattern that backtracks
// exponentially in JavaScript's engine returns at once; what RE2 cannot do is refused by name.
import { describe, expect, it } from 'vitest';
import { globMatches } from '../../../src/engine/allowed.ts';
import { PatternError, patternProblem, replaceAllLinear } from '../../../src/engine/linear-regex.ts';
import { applyTransforms } from '../../../src/sources/transforms.ts';
import { specProblems } from '../../../src/sources/map.ts';
import { identitySourceSpec } from '../../../src/api/index.ts';

const read = () => '';

describe('regexReplace on the linear-time engine', () => {
  it('^(a+)+$ on a long value returns (JavaScript backtracks 2^n steps: this test would never end)', () => {
    const value = `${'a'.repeat(64)}!`;
    expect(applyTransforms(value, [{ op: 'regexReplace', pattern: '^(a+)+$', replacement: 'x' }], read)).toBe(value);
    expect(applyTransforms('a'.repeat(64), [{ op: 'regexReplace', pattern: '^(a+)+$', replacement: 'x' }], read)).toBe('x');
  });

  it('keeps the documented replacement syntax of String.prototype.replace: $1, $<name>, $&, $$, every match', () => {
    expect(replaceAllLinear('Doe, John', '^(\\w+), (\\w+)$', '$2 $1')).toBe('John Doe');
    expect(replaceAllLinear('CC-4711', '^CC-(?<n>\\d+)$', 'cc$<n>')).toBe('cc4711');
    expect(replaceAllLinear('a-b-c', '-', '[$&$$]')).toBe('a[-$]b[-$]c');
    expect(replaceAllLinear('abc', 'x*', '-')).toBe('abc'.replace(/x*/gu, '-'));
  });

  it('refuses backreferences and lookaround, and specProblems names spec.mapping[i].transforms[j].pattern', () => {
    expect(() => replaceAllLinear('aa', '(a)\\1', '')).toThrow(PatternError);
    expect(patternProblem('(?=a)')).toContain('RE2 syntax');
    expect(patternProblem('^CC-')).toBeUndefined();
    const spec = identitySourceSpec.parse({
      type: 'csv',
      idField: 'id',
      configMapRef: { name: 'hr', key: 'people.csv' },
      mapping: [
        { to: 'title', from: 't' },
        { to: 'department', from: 'd', transforms: [{ op: 'trim' }, { op: 'regexReplace', pattern: '(?<!x)y' }] },
      ],
    });
    expect(specProblems(spec)).toEqual([expect.stringMatching(/^spec\.mapping\[1\]\.transforms\[1\]\.pattern: .*RE2 syntax/)]);
  });
});

describe('allowedEntitlements globs on the linear-time engine', () => {
  it('a glob of many stars against a long entitlement returns (polynomial backtracking in JavaScript)', () => {
    const glob = `${'*a'.repeat(12)}*b`;
    expect(globMatches(glob, 'a'.repeat(200))).toBe(false);
    expect(globMatches(glob, `${'a'.repeat(200)}b`)).toBe(true);
  });

  it('matches the whole entitlement, every other character literal, newlines included', () => {
    expect(globMatches('app-*', 'app-admins')).toBe(true);
    expect(globMatches('app-*', 'x-app-admins')).toBe(false);
    expect(globMatches('a.b?', 'a.bc')).toBe(true);
    expect(globMatches('a.b?', 'axbc')).toBe(false);
    expect(globMatches('team*', 'team\nadmins')).toBe(true);
    expect(globMatches('(x)+[y]', '(x)+[y]')).toBe(true);
  });
});
