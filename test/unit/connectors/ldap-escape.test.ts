import { describe, expect, it } from 'vitest';
import { normalizeDN, parseDN, sameDN, leafValue, dnsDomainOf } from '../../../src/connectors/ldap/dn.ts';
import { escapeDNValue, escapeFilterValue } from '../../../src/connectors/ldap/escape.ts';

describe('escapeDNValue (RFC 4514)', () => {
  it('leaves plain values alone, UTF-8 included', () => {
    expect(escapeDNValue('alice')).toBe('alice');
    expect(escapeDNValue('Zoë Ångström 日本語 🚀')).toBe('Zoë Ångström 日本語 🚀');
  });

  it('escapes the special characters', () => {
    expect(escapeDNValue('Smith, John + "Q" \\ <x> ; = ok')).toBe('Smith\\, John \\+ \\"Q\\" \\\\ \\<x\\> \\; \\= ok');
  });

  it('escapes a leading space or #, a trailing space, and NUL', () => {
    expect(escapeDNValue(' a ')).toBe('\\ a\\ ');
    expect(escapeDNValue('#1')).toBe('\\#1');
    expect(escapeDNValue('a#1')).toBe('a#1');
    expect(escapeDNValue('a\u0000b')).toBe('a\\00b');
    expect(escapeDNValue(' ')).toBe('\\ ');
  });

  it('round-trips through the DN parser for hostile values', () => {
    for (const value of ['Smith, John + "Q" \\ <x> ; = * ( ) # ok', '  two spaces  ', '#', 'a=b,c=d', 'x\u0000y', '🚀,🚀']) {
      const dn = `cn=${escapeDNValue(value)},ou=groups,dc=example,dc=org`;
      expect(parseDN(dn)).toHaveLength(4);
      expect(leafValue(dn)).toBe(value);
    }
  });
});

describe('escapeFilterValue (RFC 4515)', () => {
  it('escapes *, (, ), backslash and NUL and nothing else', () => {
    expect(escapeFilterValue('*)(uid=*))(|(uid=*')).toBe('\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a');
    expect(escapeFilterValue('a\\b')).toBe('a\\5cb');
    expect(escapeFilterValue('alice\u0000')).toBe('alice\\00');
    expect(escapeFilterValue("O'Brien & Zoë")).toBe("O'Brien & Zoë");
  });

  it('escapes an escaped DN so it can be matched as a member value', () => {
    expect(escapeFilterValue('uid=a\\,b,dc=x')).toBe('uid=a\\5c,b,dc=x');
  });
});

describe('DN comparison', () => {
  it('ignores case, spacing and escaping style', () => {
    expect(sameDN('uid=Alice,ou=People, dc=example,dc=org', 'UID=alice,ou=people,dc=example,dc=org')).toBe(true);
    expect(sameDN('cn=a\\2cb,dc=x', 'cn=a\\,b,dc=x')).toBe(true);
    expect(sameDN('cn=a\\,b,dc=x', 'cn=a,cn=b,dc=x')).toBe(false);
    expect(normalizeDN('cn=b+uid=a,dc=x')).toBe(normalizeDN('uid=a+cn=b,dc=x'));
  });

  it('decodes hex-escaped UTF-8 and escaped characters alike', () => {
    expect(leafValue('cn=Zo\\C3\\AB \\C3\\85ngstr\\C3\\B6m,dc=x')).toBe('Zoë Ångström');
    expect(leafValue('cn=\\F0\\9F\\9A\\80\\,\\2C\\\\x,dc=x')).toBe('🚀,,\\x');
    expect(sameDN('cn=Zo\\C3\\AB,dc=x', 'CN=zoë,DC=X')).toBe(true);
    expect(leafValue('cn=plain value,dc=x')).toBe('plain value');
  });

  it('gives one normal form however often it is asked', () => {
    const dn = 'UID=Alice,OU=People,DC=Example,DC=Org';
    expect(normalizeDN(dn)).toBe('uid=alice,ou=people,dc=example,dc=org');
    expect(normalizeDN(dn)).toBe('uid=alice,ou=people,dc=example,dc=org');
  });

  it('reads the DNS domain from dc components', () => {
    expect(dnsDomainOf('CN=Users,DC=example,DC=test')).toBe('example.test');
  });
});
