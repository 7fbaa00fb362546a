// Safe defaults on the real control plane: a ConnectedSystem whose Secret has not opted in is
// refused (Connected=False, CredentialsRefused, naming the Secret and the label) and touches
// nothing; once the Secret is labelled, the same system connects and provisions. A plaintext system
// allowed by insecure: true shows Insecure=True in what kubectl reads.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { describeDirectory } from '../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../src/controllers/manager.ts';
import { KubeStore, loadKubeConfig } from '../../src/store/kube-store.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { accessBinding, accessRole, connectedSystem, manifestsYaml, sqliteSystem, user } from '../helpers/manifests.ts';
import { createNamespace, kubectlOk } from './kube.ts';
import { eventually } from '../helpers/eventually.ts';

describe('safe defaults on the real API server', () => {
  let namespace: string;
  let dir: string;
  let store: KubeStore;
  let manager: Manager;
  const condition = (system: string, type: string) => {
    const csys = JSON.parse(kubectlOk(['get', 'connectedsystem', system, '-n', namespace, '-o', 'json']));
    return (csys.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
  };

  beforeAll(async () => {
    namespace = createNamespace('safe');
    dir = mkdtempSync(join(tmpdir(), 'rollcall-e2e-safe-'));
    kubectlOk(['create', 'secret', 'generic', 'directory-credentials', '-n', namespace, '--from-literal=passphrase=correct-horse']);
    kubectlOk(
      ['apply', '-f', '-'],
      manifestsYaml([
        sqliteSystem({ name: 'directory', namespace }, join(dir, 'directory.db'), {
          credentialsSecretRef: { name: 'directory-credentials' },
          resyncInterval: '2s',
        }),
        // Not ldapSystem: this system names no credentials Secret at all.
        connectedSystem(
          { name: 'plain-ldap', namespace },
          {
            type: 'ldap',
            insecure: true,
            allowPrivateNetwork: true,
            ldap: { url: 'ldap://127.0.0.1:1', peopleDN: 'ou=people,dc=acme', groupsDN: 'ou=groups,dc=acme' },
          },
        ),
        accessRole({ name: 'staff', namespace }, { directory: ['staff'] }),
        accessBinding({ name: 'staff', namespace }, { users: ['alice'] }),
        user({ name: 'alice', namespace }),
      ]),
    );
    const { logger } = capturedLogger();
    store = new KubeStore({ kubeconfig: loadKubeConfig(inject('kubeconfig')), namespace, logger });
    manager = new Manager({ store, logger, timeoutMs: 2_000 });
    await manager.start();
  });

  afterAll(async () => {
    await manager?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a Secret without the label, naming it, and creates nothing', async () => {
    await eventually(() =>
      expect(condition('directory', 'Connected')).toMatchObject({
        status: 'False',
        reason: 'CredentialsRefused',
        message:
          'ConnectedSystem directory: Secret directory-credentials (spec.credentialsSecretRef) is not labelled rollcall.dev/credentials: "true", so it may not serve as credentials',
      }),
    );
    // The connector was never built: not even its storage exists.
    expect(existsSync(join(dir, 'directory.db'))).toBe(false);
  });

  it('connects and provisions once the Secret opts in', async () => {
    kubectlOk(['label', 'secret', 'directory-credentials', '-n', namespace, 'rollcall.dev/credentials=true']);
    await eventually(() => expect(condition('directory', 'Connected')).toMatchObject({ status: 'True' }));
    await eventually(() => expect(describeDirectory(join(dir, 'directory.db')).map((r) => [r.userName, r.groups])).toEqual([['alice', ['staff']]]));
  });

  it('shows Insecure=True on a plaintext system that insecure: true allows', async () => {
    await eventually(() =>
      expect(condition('plain-ldap', 'Insecure')).toMatchObject({
        status: 'True',
        reason: 'PlaintextAllowed',
        message: 'spec.ldap.url is ldap:// without startTLS: credentials and account data cross the network unencrypted (allowed by spec.insecure: true)',
      }),
    );
    expect(condition('directory', 'Insecure')).toBeUndefined();
  });
});
