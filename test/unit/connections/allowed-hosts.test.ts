// The host matcher behind rollcall.dev/allowed-hosts, as a table: which destinations an annotation
// admits, the spellings that must compare equal (case, IDN, trailing dot, IPv4 and IPv6 forms) and
// the ones that must not (a wildcard never matches its own domain or an address; a port pins).
import { describe, expect, it } from 'vitest';
import { canonicalHost, hostAllowed, parseAllowedHosts, urlDestination } from '../../../src/connections/allowed-hosts.ts';

describe('rollcall.dev/allowed-hosts', () => {
  const allows = (annotation: string, url: string) => {
    const destination = urlDestination(url);
    return destination !== undefined && hostAllowed(parseAllowedHosts(annotation), destination);
  };

  it.each([
    // annotation, destination url, allowed
    ['ldap.example.org', 'ldaps://ldap.example.org:636', true],
    ['ldap.example.org', 'ldap://ldap.example.org', true], // no port in the entry: any port
    ['ldap.example.org:636', 'ldaps://ldap.example.org', true], // ldaps:// defaults to 636
    ['ldap.example.org:636', 'ldap://ldap.example.org', false], // ldap:// defaults to 389
    ['ldap.example.org:636', 'ldaps://ldap.example.org:1636', false],
    ['ldap.example.org', 'ldaps://evil.example.net:636', false],
    ['ldap.example.org', 'ldaps://ldap.example.org.evil.net', false],
    ['ldap.example.org', 'ldaps://xldap.example.org', false],
    ['LDAP.Example.ORG', 'ldaps://ldap.example.org', true], // case-insensitive both ways
    ['ldap.example.org', 'ldaps://LDAP.EXAMPLE.org', true],
    ['ldap.example.org.', 'ldaps://ldap.example.org', true], // trailing dot
    ['ldap.example.org', 'ldaps://ldap.example.org.:636', true],
    ['bücher.example', 'https://xn--bcher-kva.example/scim', true], // IDN as punycode
    ['xn--bcher-kva.example', 'ldaps://bücher.example', true],
    ['ldap.example.org', 'ldaps://ｌｄａｐ.example.org', true], // fullwidth folds as a resolver would see it
    ['ldap.example.org', 'https://ldap.example.org/', true],
    ['scim.example.org:443', 'https://scim.example.org/scim/v2', true],
    ['scim.example.org:443', 'http://scim.example.org/scim/v2', false],
    ['*.example.org', 'ldaps://ldap.example.org', true], // one label
    ['*.example.org', 'ldaps://a.b.example.org', true], // more than one
    ['*.example.org', 'ldaps://example.org', false], // never the domain itself
    ['*.example.org', 'ldaps://badexample.org', false],
    ['*.example.org:636', 'ldaps://ldap.example.org', true],
    ['*.example.org:636', 'ldap://ldap.example.org', false],
    ['10.0.0.5', 'ldaps://10.0.0.5', true], // an address only equals itself
    ['10.0.0.5', 'ldaps://10.0.0.6', false],
    ['127.0.0.1:389', 'ldap://127.1:389', true], // the same address spelled as inet_aton reads it
    ['127.0.0.1', 'ldap://0x7f.0.0.1', true],
    ['*.0.0.1', 'ldap://127.0.0.1', false], // not a wildcard over addresses (and not a valid entry)
    ['[::1]:636', 'ldaps://[0:0::1]:636', true],
    ['::1', 'ldaps://[::1]:1636', true], // a bare IPv6 address: any port
    ['[::1]:636', 'ldaps://[::2]:636', false],
    ['a.example.org, b.example.org:636', 'ldaps://b.example.org', true],
    [' , ldap.example.org , ', 'ldaps://ldap.example.org', true],
    ['ldap.example.org', 'ldaps:///', false], // no host: ldapts would dial localhost
    ['ldap.example.org', 'ldaps://user@ldap.example.org.evil.net', false],
    ['', 'ldaps://ldap.example.org', false], // present and empty: nowhere
  ])('%j admits %s: %s', (annotation, url, allowed) => {
    expect(allows(annotation, url)).toBe(allowed);
  });

  it.each(['*', '*.', 'a.*.org', 'host:0', 'host:65536', 'host:x', 'http://host', 'host/path', 'user@host', '[::1', '*.[::1]'])(
    '%j is not a valid entry, and matches nothing',
    (entry) => {
      expect(parseAllowedHosts(entry)).toEqual({ patterns: [], invalid: [entry] });
    },
  );

  it.each([
    ['Example.ORG.', 'example.org'],
    ['127.1', '127.0.0.1'],
    ['::FFFF:127.0.0.1', '[::ffff:7f00:1]'],
    ['/var/run/postgresql', undefined], // a socket directory is not a host
    ['host:5432', undefined],
    ['', undefined],
  ])('canonicalHost(%j) is %j', (raw, canonical) => {
    expect(canonicalHost(raw)).toBe(canonical);
  });
});
