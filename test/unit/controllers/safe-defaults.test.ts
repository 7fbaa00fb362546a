// Safe defaults on the controllers' side, with the embedded sqlite directory as the real system:
// a Secret serves as credentials only when it opts in (label, and the optional allowed-systems
// annotation), spec.allowedEntitlements refuses what it does not match (never granted, revoked if
// held, Refused in the User's status), and a plaintext transport allowed by spec.insecure shows as
// the condition Insecure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { accessBinding, accessRole, connectedSystem, secret, sqliteSystem, user, writeManifests, type Manifest } from '../../helpers/manifests.ts';
import { convergedManager } from '../../helpers/converged-manager.ts';

function world(dir: string, allowedEntitlements: string[]): Manifest[] {
  const system = (name: string, secret: string) => [
    sqliteSystem(name, join(dir, `${name}.db`), { credentialsSecretRef: { name: secret }, allowedEntitlements }),
    accessRole(name, { [name]: ['eng-backend', 'eng.ops', 'admins'] }),
    accessBinding(name, { users: ['alice'] }),
  ];
  const passphrase = { passphrase: 'correct-horse' };
  const credentials = { 'rollcall.dev/credentials': 'true' };
  return [
    ...system('directory', 'opted-in'),
    ...system('unlabelled-user', 'unlabelled'),
    ...system('narrowed-user', 'narrowed'),
    secret({ name: 'opted-in', labels: credentials, annotations: { 'rollcall.dev/allowed-systems': 'other, directory' } }, passphrase),
    secret('unlabelled', passphrase),
    secret({ name: 'narrowed', labels: credentials, annotations: { 'rollcall.dev/allowed-systems': 'directory' } }, passphrase),
    // Not ldapSystem: this system names no credentials Secret at all.
    connectedSystem('plain-ldap', {
      type: 'ldap',
      insecure: true,
      allowPrivateNetwork: true,
      ldap: { url: 'ldap://127.0.0.1:1', peopleDN: 'ou=people,dc=acme', groupsDN: 'ou=groups,dc=acme' },
    }),
    user('alice'),
  ];
}

describe('safe defaults in the controllers', () => {
  let dir: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const system = (name: string) => store.get('ConnectedSystem', { namespace: 'acme', name });
  const condition = (name: string, type: string) => system(name)?.status?.conditions?.find((c) => c.type === type);
  const alice = () => store.get('User', { namespace: 'acme', name: 'alice' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-safe-defaults-'));
    writeManifests(dir, 'all.yaml', world(dir, ['eng-*']));
    ({ store, directory, manager } = await convergedManager(dir));
  });

  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uses a Secret labelled rollcall.dev/credentials whose allowed-systems annotation names the system', () => {
    expect(condition('directory', 'Connected')).toMatchObject({ status: 'True' });
    expect(describeDirectory(join(dir, 'directory.db')).map((r) => r.userName)).toEqual(['alice']);
  });

  it('refuses an unlabelled Secret, naming it and the label, and touches nothing', () => {
    expect(condition('unlabelled-user', 'Connected')).toMatchObject({
      status: 'False',
      reason: 'CredentialsRefused',
      message:
        'ConnectedSystem unlabelled-user: Secret unlabelled (spec.credentialsSecretRef) is not labelled rollcall.dev/credentials: "true", so it may not serve as credentials',
    });
    expect(condition('unlabelled-user', 'Ready')).toMatchObject({ status: 'False', reason: 'CredentialsRefused' });
    expect(alice()?.status?.accounts?.find((a) => a.system === 'unlabelled-user')).toMatchObject({
      state: 'error',
      message: expect.stringContaining('not labelled rollcall.dev/credentials'),
    });
  });

  it('refuses a labelled Secret whose allowed-systems annotation does not name the system', () => {
    expect(condition('narrowed-user', 'Connected')).toMatchObject({
      status: 'False',
      reason: 'CredentialsRefused',
      message: expect.stringContaining(
        'Secret narrowed (spec.credentialsSecretRef) is annotated rollcall.dev/allowed-systems: "directory", which does not name narrowed-user',
      ),
    });
  });

  it('grants only what spec.allowedEntitlements matches and says what it refused and why', () => {
    const [row] = describeDirectory(join(dir, 'directory.db'));
    expect(row?.groups).toEqual(['eng-backend']);
    const refused = alice()?.status?.conditions?.find((c) => c.type === 'Refused');
    expect(refused).toMatchObject({ status: 'True', reason: 'EntitlementRefused' });
    expect(refused?.message).toContain(
      'directory: refused admins (AccessRole directory, AccessBinding directory): not matched by spec.allowedEntitlements (eng-*)',
    );
    // "eng-*" is a glob: the "." of eng.ops is no wildcard, and "-" must match literally.
    expect(refused?.message).toContain('directory: refused eng.ops (AccessRole directory, AccessBinding directory)');
  });

  it('revokes a held entitlement the list no longer admits, and lifts Refused once nothing is refused', async () => {
    writeManifests(dir, 'all.yaml', world(dir, ['eng.ops', 'adm?ns']));
    directory.reload();
    await manager.idle();
    expect(describeDirectory(join(dir, 'directory.db'))[0]?.groups).toEqual(['admins', 'eng.ops']);
    expect(alice()?.status?.conditions?.find((c) => c.type === 'Refused')?.message).toContain(
      'directory: refused eng-backend (AccessRole directory, AccessBinding directory)',
    );
    writeManifests(dir, 'all.yaml', world(dir, ['*']));
    directory.reload();
    await manager.idle();
    expect(describeDirectory(join(dir, 'directory.db'))[0]?.groups).toEqual(['admins', 'eng-backend', 'eng.ops']);
    expect(alice()?.status?.conditions?.find((c) => c.type === 'Refused')).toMatchObject({ status: 'False', reason: 'NoneRefused' });
  });

  it('shows a plaintext transport allowed by spec.insecure as the warning condition Insecure', () => {
    expect(condition('plain-ldap', 'Insecure')).toMatchObject({
      status: 'True',
      reason: 'PlaintextAllowed',
      message: 'spec.ldap.url is ldap:// without startTLS: credentials and account data cross the network unencrypted (allowed by spec.insecure: true)',
    });
    expect(condition('directory', 'Insecure')).toBeUndefined();
  });
});
