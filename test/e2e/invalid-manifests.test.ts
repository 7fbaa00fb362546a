// The API server itself rejects bad input, with a message naming the field (schema + CEL).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'invalid');

// [fixture, what the API server's message must name]
const rejected: [string, RegExp][] = [
  ['bad-enum', /spec\.state.*Unsupported value: "retired"/],
  ['valid-until-before-from', /spec\.validUntil.*validFrom must be before validUntil/],
  ['missing-username', /spec\.userName.*Required value/],
  ['wrong-type', /spec\.suspend.*must be of type boolean|spec\.suspend.*boolean/],
  ['bad-email', /spec\.email.*email/],
  ['bad-duration', /spec\.maxDuration.*should match/],
  ['wrong-api-version', /no matches for kind "User" in version "rollcall\.dev\/v2"|rollcall\.dev\/v2/],
  ['missing-settings', /spec\.ldap.*ldap settings are required when type is ldap/],
  ['binding-without-subjects', /users or userSelector is required/],
  ['bad-username', /spec\.userName.*should match/],
  ['retention-missing', /spec\.deprovision\.retention.*retention is required for disableThenDelete/],
];

describe('the API server rejects invalid manifests with the field named', () => {
  let namespace: string;
  beforeAll(() => {
    namespace = createNamespace('invalid');
  });

  it.each(rejected)('%s', (fixture, message) => {
    const text = readFileSync(join(FIXTURES, fixture, 'manifest.yaml'), 'utf8').replaceAll('namespace: acme', `namespace: ${namespace}`);
    const result = kubectl(['apply', '-f', '-'], text);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  it('refuses a change of userName', () => {
    const user = (userName: string) =>
      `{"apiVersion":"rollcall.dev/v1alpha1","kind":"User","metadata":{"name":"imm","namespace":"${namespace}"},"spec":{"userName":"${userName}"}}`;
    kubectlOk(['apply', '-f', '-'], user('first'));
    const result = kubectl(['apply', '-f', '-'], user('second'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/spec\.userName.*userName is immutable/);
  });

  it('refuses a change of a ConnectedSystem type', () => {
    const system = (type: string) =>
      `{"apiVersion":"rollcall.dev/v1alpha1","kind":"ConnectedSystem","metadata":{"name":"imm","namespace":"${namespace}"},"spec":{"type":"${type}","sqlite":{"path":"x.db"},"kubernetes":{}}}`;
    kubectlOk(['apply', '-f', '-'], system('sqlite'));
    const result = kubectl(['apply', '-f', '-'], system('kubernetes'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/type is immutable/);
  });
});
