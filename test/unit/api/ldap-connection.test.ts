// spec.ldap's connection fields are one piece for ConnectedSystems and IdentitySources: the same
// fields in both CRDs, the same plaintext rule (StartTLS counts as encrypted), in CEL and in TypeScript.
import { describe, expect, it } from 'vitest';
import { KINDS, identitySourceSpec, ldapPlaintext } from '../../../src/api/index.ts';
import { openApiSchema } from '../../../src/api/crd.ts';
import { parseManifests } from '../../../src/manifests/load.ts';

type Schema = { properties: Record<string, Schema> };
const ldapProperties = (kind: 'ConnectedSystem' | 'IdentitySource') =>
  (openApiSchema(KINDS[kind]) as unknown as Schema).properties['spec']!.properties['ldap']!.properties;

describe("spec.ldap's connection fields", () => {
  it('are the same in the ConnectedSystem and IdentitySource CRDs, apart from the field that allows plaintext', () => {
    const system = ldapProperties('ConnectedSystem');
    const source = ldapProperties('IdentitySource');
    expect(source['startTLS']).toEqual(system['startTLS']);
    expect(source['caSecretRef']).toEqual(system['caSecretRef']);
    expect(source['caSecretRef']).toMatchObject({ required: ['name'] });
    expect(JSON.stringify(source['url'])).toContain('needs spec.ldap.insecure');
    expect(JSON.stringify(system['url'])).toContain('needs spec.insecure');
  });

  it('parse on an IdentitySource: startTLS defaults to false, caSecretRef is kept', () => {
    const parse = (ldap: Record<string, unknown>) =>
      identitySourceSpec.parse({ type: 'ldap', idField: 'uid', ldap: { url: 'ldaps://ldap.example.org', baseDN: 'dc=x', ...ldap } }).ldap;
    expect(parse({})).toMatchObject({ startTLS: false });
    expect(parse({})?.caSecretRef).toBeUndefined();
    expect(parse({ url: 'ldap://ldap.example.org', startTLS: true, caSecretRef: { name: 'corp-ca' } })).toMatchObject({
      startTLS: true,
      caSecretRef: { name: 'corp-ca' },
    });
    expect(() => parse({ startTLS: 'yes' })).toThrow();
    expect(() => parse({ caSecretRef: { name: 'Not_A_Name' } })).toThrow();
  });

  it('ldapPlaintext: ldap:// is plaintext unless StartTLS upgrades it; ldaps:// never is', () => {
    expect(ldapPlaintext({ url: 'ldap://ldap.example.org' })).toBe('spec.ldap.url is ldap:// without startTLS');
    expect(ldapPlaintext({ url: 'LDAP://ldap.example.org', startTLS: false })).toBe('spec.ldap.url is ldap:// without startTLS');
    expect(ldapPlaintext({ url: 'ldap://ldap.example.org', startTLS: true })).toBeUndefined();
    expect(ldapPlaintext({ url: 'ldaps://ldap.example.org' })).toBeUndefined();
  });
});

describe("an IdentitySource's ldap:// in standalone mode (the CRD's CEL rule)", () => {
  const source = (ldap: string) =>
    `{apiVersion: rollcall.dev/v1alpha1, kind: IdentitySource, metadata: {name: hr, namespace: acme}, spec: {type: ldap, idField: uid, ldap: {baseDN: "dc=x", ${ldap}}}}`;
  const errors = (ldap: string) => parseManifests(source(ldap), 'source.yaml').errors.map((e) => `${e.field}: ${e.message}`);

  it('is accepted with startTLS or with spec.ldap.insecure, and ldaps:// always', () => {
    expect(errors('url: "ldap://ldap.example.org", startTLS: true')).toEqual([]);
    expect(errors('url: "ldap://ldap.example.org", insecure: true')).toEqual([]);
    expect(errors('url: "ldaps://ldap.example.org"')).toEqual([]);
  });

  it('is refused without either, naming the fields to set', () => {
    const refusal = 'spec.ldap.url: spec.ldap.url is plaintext ldap://: use ldaps://, set spec.ldap.startTLS, or set spec.ldap.insecure: true';
    expect(errors('url: "ldap://ldap.example.org"')).toEqual([refusal]);
    expect(errors('url: "ldap://ldap.example.org", startTLS: false')).toEqual([refusal]);
  });
});
