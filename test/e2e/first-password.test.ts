// Joiners' first passwords on the real API server: the Secret is created in the User's namespace,
// labelled for the userName and the system, owned by the User (controller ownerReference); its
// password logs in to the system; the User's reconcile deletes it when its ttl is up, by an injected
// clock; and Kubernetes' garbage collector deletes it with the User.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestClock } from '../../src/clock/clock.ts';
import { authenticate } from '../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../src/controllers/manager.ts';
import { KubeStore, loadKubeConfig } from '../../src/store/kube-store.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { eventually } from '../helpers/eventually.ts';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';

const HOUR = 3_600_000;

interface SecretJson {
  metadata: {
    name: string;
    ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean }>;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  data: Record<string, string>;
}

describe('first passwords delivered on a cluster', () => {
  let namespace: string;
  let dir: string;
  let manager: Manager | undefined;
  const clock = new TestClock(new Date('2031-03-01T09:00:00Z'));
  const { logger, lines } = capturedLogger('debug');
  const logs = () => lines.slice(-30).join('');

  const secrets = (): SecretJson[] =>
    JSON.parse(kubectlOk(['get', 'secrets', '-n', namespace, '-l', 'rollcall.dev/initial-password-for=alice', '-o', 'json'])).items;
  const user = () => JSON.parse(kubectlOk(['get', 'user', 'alice', '-n', namespace, '-o', 'json']));

  beforeAll(async () => {
    namespace = createNamespace('first-password');
    dir = mkdtempSync(join(tmpdir(), 'rollcall-first-password-e2e-'));
    kubectlOk(
      ['apply', '-f', '-'],
      [
        `apiVersion: rollcall.dev/v1alpha1\nkind: ConnectedSystem\nmetadata: {name: directory, namespace: ${namespace}}\nspec: {type: sqlite, sqlite: {path: ${JSON.stringify(join(dir, 'directory.db'))}}, credentials: {policy: initialPassword, ttl: 1h}}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: AccessRole\nmetadata: {name: staff, namespace: ${namespace}}\nspec: {grants: [{system: directory, entitlements: [staff]}]}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: AccessBinding\nmetadata: {name: staff, namespace: ${namespace}}\nspec: {role: staff, users: [alice]}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: alice, namespace: ${namespace}}\nspec: {userName: alice}\n`,
      ].join('---\n'),
    );
    const store = new KubeStore({ kubeconfig: loadKubeConfig(inject('kubeconfig')), namespace, logger, clock });
    manager = new Manager({ store, logger, clock });
    await manager.start();
  });

  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the Secret owned by the User and labelled, whose password logs in, never logged', async () => {
    const [secret] = await eventually(
      () => {
        const found = secrets();
        expect(found).toHaveLength(1);
        return found;
      },
      { logs },
    );
    const alice = user();
    expect(secret!.metadata.name).toBe('initial-password-alice-directory');
    expect(secret!.metadata.labels).toMatchObject({ 'rollcall.dev/initial-password-for': 'alice', 'rollcall.dev/system': 'directory' });
    expect(secret!.metadata.annotations?.['rollcall.dev/expires-at']).toBe('2031-03-01T10:00:00.000Z');
    expect(secret!.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'User', name: 'alice', uid: alice.metadata.uid, controller: true })]);
    const password = Buffer.from(secret!.data['password']!, 'base64').toString('utf8');
    await eventually(async () => expect(await authenticate(join(dir, 'directory.db'), 'alice', password)).toBe(true), { logs });
    await eventually(
      () =>
        expect(user().status?.accounts?.[0]?.initialPassword).toEqual({
          secretName: 'initial-password-alice-directory',
          expiresAt: '2031-03-01T10:00:00.000Z',
        }),
      { logs },
    );
    expect(lines.join('')).not.toContain(password);
    expect(kubectlOk(['get', 'events', '-n', namespace, '-o', 'json'])).not.toContain(password);
  });

  it('deletes the Secret when the injected clock reaches its ttl, and keeps it until then', async () => {
    clock.advance(HOUR - 1000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(secrets()).toHaveLength(1);
    clock.advance(1000);
    await eventually(() => expect(secrets()).toHaveLength(0), { logs });
    await eventually(() => expect(user().status?.accounts?.[0]?.initialPassword).toBeUndefined(), { logs });
  });

  it('goes with the User: the garbage collector follows the ownerReference', async () => {
    kubectlOk(['apply', '-f', '-'], `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: bob, namespace: ${namespace}}\nspec: {userName: bob}\n`);
    kubectlOk(['patch', 'accessbinding', 'staff', '-n', namespace, '--type=merge', '-p', '{"spec":{"users":["alice","bob"]}}']);
    const bobSecret = () => kubectl(['get', 'secret', 'initial-password-bob-directory', '-n', namespace, '-o', 'name']);
    await eventually(() => expect(bobSecret().code).toBe(0), { logs });
    // Rollcall stopped, so nothing of its own deletes the Secret (a leaver's goes at once otherwise):
    // only the ownerReference can take it away with the User.
    await manager!.stop();
    manager = undefined;
    kubectlOk(['patch', 'user', 'bob', '-n', namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    kubectlOk(['delete', 'user', 'bob', '-n', namespace, '--wait=false']);
    await eventually(() => expect(bobSecret().stdout).toBe(''), { logs, timeoutMs: 90_000 });
  });

  it('goes at once when its account is disabled: the password opens nothing any more', async () => {
    const store = new KubeStore({ kubeconfig: loadKubeConfig(inject('kubeconfig')), namespace, logger, clock });
    manager = new Manager({ store, logger, clock });
    await manager.start();
    kubectlOk(['apply', '-f', '-'], `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: cleo, namespace: ${namespace}}\nspec: {userName: cleo}\n`);
    kubectlOk(['patch', 'accessbinding', 'staff', '-n', namespace, '--type=merge', '-p', '{"spec":{"users":["alice","cleo"]}}']);
    const cleoSecret = () => kubectl(['get', 'secret', 'initial-password-cleo-directory', '-n', namespace, '-o', 'name']);
    await eventually(() => expect(cleoSecret().code).toBe(0), { logs });
    kubectlOk(['patch', 'user', 'cleo', '-n', namespace, '--type=merge', '-p', '{"spec":{"state":"suspended"}}']);
    await eventually(() => expect(cleoSecret().stdout).toBe(''), { logs });
    expect(user().metadata.name).toBe('alice');
  });
});
