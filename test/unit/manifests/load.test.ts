import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectedSystem, User } from '../../../src/api/index.ts';
import { formatManifestError, loadManifests, parseManifests, type SecretObject } from '../../../src/manifests/load.ts';

const user = (spec: string, name = 'alice') => `apiVersion: rollcall.dev/v1alpha1
kind: User
metadata:
  name: ${name}
spec:
${spec}`;

function errorsOf(text: string, file = 'examples/bad.yaml'): string[] {
  return parseManifests(text, file).errors.map(formatManifestError);
}

describe('parseManifests: valid manifests', () => {
  it('parses every kind, applies defaults and puts objects without a namespace in default', () => {
    const { objects, errors } = parseManifests(
      `${user('  userName: alice\n  validUntil: 2026-12-31T17:00:00Z')}
---
---
apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: { name: corp-ldap, namespace: tenant-a }
spec:
  type: ldap
  ldap: { url: "ldaps://ldap:636", peopleDN: "ou=people,dc=example,dc=org", groupsDN: "ou=groups,dc=example,dc=org" }
---
apiVersion: v1
kind: Namespace
metadata: { name: tenant-a }
`,
      'ok.yaml',
    );
    expect(errors).toEqual([]);
    expect(objects).toHaveLength(2);
    const alice = objects[0] as User;
    expect(alice.metadata.namespace).toBe('default');
    expect(alice.spec).toMatchObject({ userName: 'alice', state: 'active', employeeType: 'employee', validUntil: '2026-12-31T17:00:00Z' });
    const ldap = objects[1] as ConnectedSystem;
    expect(ldap.metadata.namespace).toBe('tenant-a');
    expect(ldap.spec.deprovision).toEqual({ policy: 'disable' });
    expect(ldap.spec.insecure).toBe(false);
    expect(ldap.spec.ldap).toMatchObject({ startTLS: false, flavour: 'openldap', groupType: 'groupOfNames' });
  });

  it('expands kind: List and reads JSON files', () => {
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'rollcall.dev/v1alpha1',
          kind: 'AccessRole',
          metadata: { name: 'engineering' },
          spec: { grants: [{ system: 'corp-ldap', entitlements: ['eng'] }] },
        },
        { apiVersion: 'rollcall.dev/v1alpha1', kind: 'AccessBinding', metadata: { name: 'eng-alice' }, spec: { role: 'engineering', users: ['alice'] } },
      ],
    });
    const { objects, errors } = parseManifests(list, 'list.json');
    expect(errors).toEqual([]);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['AccessRole/engineering', 'AccessBinding/eng-alice']);
  });

  it('decodes Secret data from base64 and lets stringData win, and keeps ConfigMaps', () => {
    const { objects, errors } = parseManifests(
      `apiVersion: v1
kind: Secret
metadata: { name: ldap-credentials, namespace: tenant-a }
type: Opaque
data:
  bindDN: ${Buffer.from('cn=admin,dc=example,dc=org').toString('base64')}
  password: ${Buffer.from('old').toString('base64')}
stringData:
  password: "s3cret: with colon"
---
apiVersion: v1
kind: ConfigMap
metadata: { name: hr-feed }
data:
  users.csv: "login,mail\\nalice,alice@example.org\\n"
`,
      'secrets.yaml',
    );
    expect(errors).toEqual([]);
    const secret = objects[0] as SecretObject;
    expect(secret.data).toEqual({ bindDN: 'cn=admin,dc=example,dc=org', password: 's3cret: with colon' });
    expect(objects[1]).toMatchObject({
      kind: 'ConfigMap',
      metadata: { name: 'hr-feed', namespace: 'default' },
      data: { 'users.csv': 'login,mail\nalice,alice@example.org\n' },
    });
  });
});

describe('parseManifests: each malformed manifest gets one actionable line', () => {
  // [what, manifest, the formatted error line expected among the errors: the line is the field's, or
  // for a field that is missing, the line of the object that should hold it]
  const cases: Array<[string, string, string]> = [
    [
      'enum value',
      user('  userName: alice\n  state: gone'),
      'examples/bad.yaml: User "alice" (document 1, line 7): spec.state: must be one of active, suspended, terminated',
    ],
    [
      'wrong type',
      user('  userName: alice\n  attributes: [a, b]'),
      'examples/bad.yaml: User "alice" (document 1, line 7): spec.attributes: must be a map, not a list',
    ],
    ['pattern', user('  userName: Alice Smith'), 'examples/bad.yaml: User "alice" (document 1, line 6): spec.userName: must be lowercase letters'],
    [
      'date-time format',
      user('  userName: alice\n  validUntil: next tuesday'),
      'examples/bad.yaml: User "alice" (document 1, line 7): spec.validUntil: must be an RFC 3339 date-time such as 2026-12-31T17:00:00Z',
    ],
    [
      'e-mail format',
      user('  userName: alice\n  email: alice-at-example'),
      'examples/bad.yaml: User "alice" (document 1, line 7): spec.email: must be an e-mail address',
    ],
    ['missing required spec field', user('  givenName: Alice'), 'examples/bad.yaml: User "alice" (document 1, line 6): spec.userName: is required'],
    [
      'unknown spec field',
      user('  userName: alice\n  validUtil: 2026-01-01T00:00:00Z'),
      'examples/bad.yaml: User "alice" (document 1, line 7): spec.validUtil: unknown field',
    ],
    [
      'unknown nested field',
      `apiVersion: rollcall.dev/v1alpha1\nkind: AccessRole\nmetadata: { name: eng }\nspec:\n  grants:\n    - system: corp-ldap\n      groups: [eng]`,
      'examples/bad.yaml: AccessRole "eng" (document 1, line 7): spec.grants[0].groups: unknown field',
    ],
    [
      'unknown kind',
      'apiVersion: rollcall.dev/v1alpha1\nkind: Person\nmetadata: { name: bob }\nspec: {}',
      'examples/bad.yaml: Person "bob" (document 1, line 2): kind: unknown kind "Person"',
    ],
    [
      'missing apiVersion',
      'kind: User\nmetadata: { name: bob }\nspec: { userName: bob }',
      'examples/bad.yaml: User "bob" (document 1, line 1): apiVersion: is required',
    ],
    ['missing kind', 'apiVersion: rollcall.dev/v1alpha1\nmetadata: { name: bob }', 'examples/bad.yaml: object (document 1, line 1): kind: is required'],
    [
      'missing metadata.name',
      'apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {}\nspec: { userName: bob }',
      'examples/bad.yaml: User (document 1, line 3): metadata.name: is required',
    ],
    [
      'wrong apiVersion',
      'apiVersion: rollcall.dev/v1\nkind: User\nmetadata: { name: bob }\nspec: { userName: bob }',
      'examples/bad.yaml: User "bob" (document 1, line 1): apiVersion: must be rollcall.dev/v1alpha1 for kind User',
    ],
    [
      'validFrom after validUntil',
      user('  userName: alice\n  validFrom: 2027-01-01T00:00:00Z\n  validUntil: 2026-01-01T00:00:00Z'),
      'examples/bad.yaml: User "alice" (document 1, line 8): spec.validUntil: validFrom must be before validUntil',
    ],
    [
      'binding without subjects',
      'apiVersion: rollcall.dev/v1alpha1\nkind: AccessBinding\nmetadata: { name: eng-all }\nspec: { role: eng }',
      'examples/bad.yaml: AccessBinding "eng-all" (document 1, line 4): spec: users or userSelector is required',
    ],
    [
      'system without its settings',
      'apiVersion: rollcall.dev/v1alpha1\nkind: ConnectedSystem\nmetadata: { name: pg }\nspec: { type: postgres }',
      'examples/bad.yaml: ConnectedSystem "pg" (document 1, line 4): spec.postgres: postgres settings are required when type is postgres',
    ],
    [
      'disableThenDelete without retention',
      'apiVersion: rollcall.dev/v1alpha1\nkind: ConnectedSystem\nmetadata: { name: k8s }\nspec: { type: kubernetes, deprovision: { policy: disableThenDelete } }',
      'examples/bad.yaml: ConnectedSystem "k8s" (document 1, line 4): spec.deprovision.retention: retention is required for disableThenDelete',
    ],
    [
      'duration pattern',
      'apiVersion: rollcall.dev/v1alpha1\nkind: ConnectedSystem\nmetadata: { name: k8s }\nspec: { type: kubernetes, resyncInterval: five minutes }',
      'examples/bad.yaml: ConnectedSystem "k8s" (document 1, line 4): spec.resyncInterval: must be a duration such as 30s, 15m, 12h or 7d',
    ],
    [
      'number out of range',
      'apiVersion: rollcall.dev/v1alpha1\nkind: ConnectedSystem\nmetadata: { name: k8s }\nspec: { type: kubernetes, deletionGuard: { maxPercent: 150 } }',
      'examples/bad.yaml: ConnectedSystem "k8s" (document 1, line 4): spec.deletionGuard.maxPercent: must be at most 100',
    ],
    [
      'invalid object name',
      user('  userName: alice', 'Alice'),
      'examples/bad.yaml: User "Alice" (document 1, line 4): metadata.name: must be a lowercase DNS-1123 name',
    ],
    [
      'Secret data not base64',
      'apiVersion: v1\nkind: Secret\nmetadata: { name: creds }\ndata: { password: "not base64!" }',
      'examples/bad.yaml: Secret "creds" (document 1, line 4): data.password: must be base64-encoded',
    ],
    [
      'invalid YAML',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n',
      'examples/bad.yaml: object (document 1): invalid YAML: Map keys must be unique at line 5, column 3',
    ],
  ];

  it.each(cases)('%s', (_what, manifest, expected) => {
    const lines = errorsOf(manifest);
    expect(
      lines.some((line) => line.startsWith(expected)),
      `expected a line starting with\n  ${expected}\ngot\n  ${lines.join('\n  ')}`,
    ).toBe(true);
  });

  it('numbers documents from 1, counting the position in the file', () => {
    const text = `${user('  userName: alice')}\n---\n${user('  userName: bob\n  state: gone', 'bob')}`;
    expect(errorsOf(text)).toEqual(['examples/bad.yaml: User "bob" (document 2, line 14): spec.state: must be one of active, suspended, terminated']);
  });

  it('reports the line of a YAML syntax error in a later document and keeps the good documents', () => {
    const text = `${user('  userName: alice')}\n---\nkind: User\nmetadata:\n  name: [unclosed\n`;
    const { objects, errors } = parseManifests(text, 'broken.yaml');
    expect(objects).toHaveLength(1);
    expect(errors.map(formatManifestError)[0]).toMatch(/^broken\.yaml: object \(document 2\): invalid YAML: .* at line \d+, column \d+$/);
  });

  it('names the item of a List that is wrong', () => {
    const text =
      'apiVersion: v1\nkind: List\nitems:\n  - { apiVersion: rollcall.dev/v1alpha1, kind: User, metadata: { name: carol }, spec: { userName: carol, employeeType: robot } }';
    expect(errorsOf(text)).toEqual([
      'examples/bad.yaml: User "carol" (document 1, item 0, line 4): spec.employeeType: must be one of employee, contractor, vendor, service',
    ]);
  });
});

describe('loadManifests', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads .yaml, .yml and .json files recursively in sorted order, skipping other and hidden files', () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-manifests-'));
    mkdirSync(join(dir, 'b-users'));
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, 'b-users', 'bob.yml'), user('  userName: bob', 'bob'));
    writeFileSync(join(dir, 'a.yaml'), user('  userName: alice'));
    writeFileSync(
      join(dir, 'c.json'),
      JSON.stringify({ apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', metadata: { name: 'carol' }, spec: { userName: 'carol' } }),
    );
    writeFileSync(join(dir, 'README.md'), '# not a manifest');
    writeFileSync(join(dir, '.git', 'x.yaml'), 'not: [valid');
    const { objects, errors } = loadManifests(dir);
    expect(errors).toEqual([]);
    expect(objects.map((o) => o.metadata.name)).toEqual(['alice', 'bob', 'carol']);
  });

  it('reports duplicates across files with both places, and keeps neither', () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-manifests-'));
    writeFileSync(join(dir, 'one.yaml'), user('  userName: alice'));
    writeFileSync(join(dir, 'two.yaml'), `${user('  userName: bob', 'bob')}\n---\n${user('  userName: alice2')}`);
    const { objects, errors } = loadManifests(dir);
    expect(objects.map((o) => o.metadata.name)).toEqual(['bob']);
    expect(errors.map(formatManifestError)).toEqual([
      `${join(dir, 'one.yaml')}: User "alice" (document 1): metadata.name: duplicate User default/alice, also in ${join(dir, 'two.yaml')} (document 2)`,
      `${join(dir, 'two.yaml')}: User "alice" (document 2): metadata.name: duplicate User default/alice, also in ${join(dir, 'one.yaml')} (document 1)`,
    ]);
  });
});
