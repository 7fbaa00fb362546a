// The tests' manifest builder (test/helpers/manifests.ts) writes what the manifest loader accepts,
// as the objects it was given: a builder that wrote something else would quietly change every test
// that uses it. And a misspelt field is a compile error (misspeltFieldsFailToCompile, below).
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../src/manifests/load.ts';
import {
  accessBinding,
  accessRole,
  configMap,
  credentialsSecret,
  ldapSystem,
  manifestsYaml,
  postgresCredentials,
  postgresSystem,
  scimCredentials,
  scimSystem,
  slapdCredentials,
  sqliteSystem,
  user,
} from '../../helpers/manifests.ts';

const SERVER = { host: '127.0.0.1', port: 5432, url: 'ldap://127.0.0.1:389', peopleDN: 'ou=people,dc=acme', groupsDN: 'ou=groups,dc=acme' };

describe('the test manifest builder', () => {
  it('writes YAML the loader reads back as the same objects, strings that look like booleans kept strings', () => {
    const yaml = manifestsYaml([
      sqliteSystem('directory', '/tmp/directory.db', { deprovision: { policy: 'delete' } }),
      postgresSystem({ name: 'db', namespace: 'team-a' }, SERVER, { postgres: { managedRole: 'marker' } }),
      ldapSystem('dir', SERVER),
      scimSystem('wiki', { baseUrl: 'http://127.0.0.1:8080/scim/v2' }),
      accessRole('staff', { directory: ['staff'], db: [] }, { includes: ['employee'] }),
      accessBinding('staff', { userSelector: { matchLabels: { staff: 'yes' } } }),
      user({ name: 'alice', labels: { staff: 'yes' } }, { state: 'suspended' }),
      credentialsSecret('db-credentials', { username: 'admin', password: 'on' }),
      configMap('hr-feed', { 'people.csv': 'id\n1\n' }),
    ]);
    const { objects, errors } = parseManifests(yaml, 'all.yaml');
    expect(errors).toEqual([]);
    expect(objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'ConnectedSystem acme/directory',
      'ConnectedSystem team-a/db',
      'ConnectedSystem acme/dir',
      'ConnectedSystem acme/wiki',
      'AccessRole acme/staff',
      'AccessBinding acme/staff',
      'User acme/alice',
      'Secret acme/db-credentials',
      'ConfigMap acme/hr-feed',
    ]);
    const [, db, , , role, binding, alice, secret] = objects;
    expect(db).toMatchObject({
      spec: {
        type: 'postgres',
        insecure: true,
        allowPrivateNetwork: true,
        postgres: { host: '127.0.0.1', port: 5432, ssl: 'disable', managedRole: 'marker' },
        credentialsSecretRef: { name: 'db-credentials' },
      },
    });
    expect(role).toMatchObject({
      spec: {
        grants: [
          { system: 'directory', entitlements: ['staff'] },
          { system: 'db', entitlements: [] },
        ],
        includes: ['employee'],
      },
    });
    expect(binding).toMatchObject({ spec: { role: 'staff', userSelector: { matchLabels: { staff: 'yes' } } } });
    expect(alice).toMatchObject({ metadata: { labels: { staff: 'yes' } }, spec: { userName: 'alice', state: 'suspended' } });
    expect(secret).toMatchObject({
      metadata: { labels: { 'rollcall.dev/credentials': 'true' }, annotations: { 'rollcall.dev/allow-insecure': 'true' } },
      data: { username: 'admin', password: 'on' },
    });
  });

  it("gives a test server's system the Secret it names, in its namespace, holding the server's admin credentials", () => {
    const system = postgresSystem({ name: 'db', namespace: 'team-a' }, SERVER);
    expect(postgresCredentials({ name: 'db', namespace: 'team-a' }, { adminUser: 'postgres', adminPassword: 'pw' })).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: system.spec.credentialsSecretRef?.name,
        namespace: 'team-a',
        labels: { 'rollcall.dev/credentials': 'true' },
        annotations: { 'rollcall.dev/allow-insecure': 'true' },
      },
      stringData: { username: 'postgres', password: 'pw' },
    });
    expect(slapdCredentials('dir', { adminDN: 'cn=admin,dc=acme', adminPassword: 'pw' })).toMatchObject({
      metadata: { name: 'dir-credentials', namespace: 'acme' },
      stringData: { bindDN: 'cn=admin,dc=acme', password: 'pw' },
    });
    expect(scimCredentials('wiki', { token: 't0ken' })).toMatchObject({ metadata: { name: 'wiki-credentials' }, stringData: { token: 't0ken' } });
  });

  it('leaves annotations out of a credentials Secret that does not consent to a plain connection', () => {
    expect(credentialsSecret('db-credentials', { password: 'pw' }, { allowInsecure: false }).metadata).toStrictEqual({
      name: 'db-credentials',
      namespace: 'acme',
      labels: { 'rollcall.dev/credentials': 'true' },
    });
  });
});

// Checked by `tsc` (the type-check of npm test), never run: each line must stay an error.
export function misspeltFieldsFailToCompile(): void {
  // @ts-expect-error: no field "departmnt" in a User's spec
  user('alice', { departmnt: 'sales' });
  // @ts-expect-error: "retire" is no deprovision policy
  sqliteSystem('directory', '/tmp/d.db', { deprovision: { policy: 'retire' } });
}
