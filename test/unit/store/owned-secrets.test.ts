// Standalone mode's first-password Secrets: one file each, readable by its owner only.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OwnedSecrets } from '../../../src/store/owned-secrets.ts';
import { AlreadyExistsError, type OwnedSecret } from '../../../src/store/store.ts';

const secret = (name: string, uid = 'uid-alice'): OwnedSecret => ({
  key: { namespace: 'acme', name },
  labels: { 'rollcall.dev/initial-password-for': 'alice' },
  annotations: { 'rollcall.dev/expires-at': '2030-01-01T00:00:00Z' },
  data: { userName: 'alice', password: 'Pa55-word' },
  owner: { apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', name: 'alice', uid },
});

describe('OwnedSecrets in a directory', () => {
  let dir: string;
  beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'rollcall-owned-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a Secret manifest only its owner may read, reads it back, and never overwrites one', () => {
    const secrets = new OwnedSecrets(join(dir, 'passwords'));
    secrets.create(secret('initial-password-alice-ldap'));
    const file = join(dir, 'passwords', 'acme', 'initial-password-alice-ldap.yaml');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'passwords', 'acme')).mode & 0o777).toBe(0o700);
    expect(parse(readFileSync(file, 'utf8'))).toMatchObject({ apiVersion: 'v1', kind: 'Secret', stringData: { password: 'Pa55-word' } });
    expect(new OwnedSecrets(join(dir, 'passwords')).get({ namespace: 'acme', name: 'initial-password-alice-ldap' })).toEqual(
      secret('initial-password-alice-ldap'),
    );
    expect(() => secrets.create({ ...secret('initial-password-alice-ldap'), data: { password: 'other' } })).toThrow(AlreadyExistsError);
    expect(secrets.get({ namespace: 'acme', name: 'initial-password-alice-ldap' })?.data['password']).toBe('Pa55-word');
  });

  it('finds what an owner owns, and deletes idempotently', () => {
    const secrets = new OwnedSecrets(join(dir, 'passwords'));
    secrets.create(secret('a'));
    secrets.create(secret('b', 'uid-bob'));
    expect(secrets.ownedBy('acme', 'uid-alice')).toEqual([{ namespace: 'acme', name: 'a' }]);
    secrets.delete({ namespace: 'acme', name: 'a' });
    secrets.delete({ namespace: 'acme', name: 'a' });
    expect(secrets.get({ namespace: 'acme', name: 'a' })).toBeUndefined();
    expect(secrets.ownedBy('other', 'uid-alice')).toEqual([]);
  });
});
