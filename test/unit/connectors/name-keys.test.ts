// The pure keys under which servers find names: slapd's caseIgnoreMatch (the table is what slapd 2.5
// answered when asked to add a second group of each spelling) and PostgreSQL's 63-byte role names.
import { describe, expect, it } from 'vitest';
import { caseIgnoreKey } from '../../../src/connectors/ldap/matching.ts';
import { roleNameKey } from '../../../src/connectors/postgres/names.ts';

describe('caseIgnoreKey (slapd caseIgnoreMatch)', () => {
  const same: [string, string][] = [
    ['admins', 'ADMINS'],
    ['admins', '\uff41dmins'], // fullwidth a
    ['admins', 'admins '],
    ['team one', 'team  one'],
    ['team one', ' team one'],
    ['team one', 'team\u00a0one'], // no-break space
    ['caf\u00e9', 'cafe\u0301'], // NFC and NFD
    ['caf\u00e9', 'CAFE\u0301'],
    ['file', '\ufb01le'], // ligature
    ['a2', 'a\u00b2'], // superscript
    ['kelvin', '\u212aelvin'], // Kelvin sign
    ['\u0130stanbul', 'i\u0307stanbul'],
  ];
  const apart: [string, string][] = [
    ['admins', 'ad  mins'],
    ['x y', 'x\ty'],
    ['stra\u00dfe', 'STRASSE'],
    ['\u0130stanbul', 'istanbul'],
  ];
  it.each(same)('%j and %j are one name', (a, b) => expect(caseIgnoreKey(a)).toBe(caseIgnoreKey(b)));
  it.each(apart)('%j and %j are two names', (a, b) => expect(caseIgnoreKey(a)).not.toBe(caseIgnoreKey(b)));
});

describe('roleNameKey (PostgreSQL NAMEDATALEN)', () => {
  it('keeps names of up to 63 bytes, case and all', () => {
    expect(roleNameKey('Analysts')).toBe('Analysts');
    expect(roleNameKey('r'.repeat(63))).toBe('r'.repeat(63));
  });

  it('cuts longer names to 63 bytes, never inside a character', () => {
    expect(roleNameKey(`${'r'.repeat(63)}1`)).toBe(roleNameKey(`${'r'.repeat(63)}2`));
    // 62 bytes, then a two-byte character that would end at byte 64: PostgreSQL drops it whole.
    expect(roleNameKey(`${'r'.repeat(62)}\u00e9x`)).toBe('r'.repeat(62));
  });
});
