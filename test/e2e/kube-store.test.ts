// KubeStore against the real API server (test/controlplane): the informer cache and its events,
// writes that survive conflicts, finalizers, Events, and a watch that recovers after its connection
// is cut (a TCP proxy in front of the API server that the test closes and reopens).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KubeStore, loadKubeConfig } from '../../src/store/kube-store.ts';
import type { WatchEvent } from '../../src/store/store.ts';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { eventually } from '../helpers/eventually.ts';

const FINALIZER = 'rollcall.dev/deprovision';

/** The cache follows the API server within milliseconds of a write: look often, give up after 30 s. */
const CACHE = { timeoutMs: 30_000, intervalMs: 50 };

const userManifest = (namespace: string, name: string, extra = '') => `
apiVersion: rollcall.dev/v1alpha1
kind: User
metadata: {name: ${name}, namespace: ${namespace}}
spec: {userName: ${name}${extra}}`;

/** A TCP proxy in front of the API server whose connections the test can cut. */
async function cuttableProxy(target: URL): Promise<{ url: string; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  const cut = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  };
  await listen();
  return { url: `https://127.0.0.1:${port}`, cut, restore: listen, close: cut };
}

describe('KubeStore against the real API server', () => {
  let namespace: string;
  let store: KubeStore;
  const { logger, records: lines } = capturedLogger();
  const events: Array<{ event: WatchEvent; name: string; generation?: number; deleting: boolean }> = [];

  beforeAll(async () => {
    namespace = createNamespace('store');
    kubectlOk(['apply', '-f', '-'], userManifest(namespace, 'preexisting'));
    store = new KubeStore({ kubeconfig: loadKubeConfig(inject('kubeconfig')), namespace, logger, watchdog: { restartDelayMs: 200 } });
    store.watch('User', (event, user) =>
      events.push({ event, name: user.metadata.name, generation: user.metadata.generation, deleting: user.metadata.deletionTimestamp !== undefined }),
    );
    await store.start();
  });

  afterAll(async () => {
    await store?.stop();
  });

  it('lists on start and follows adds and spec updates, with defaults and generation', async () => {
    expect(store.get('User', { namespace, name: 'preexisting' })?.spec.state).toBe('active');
    expect(events).toContainEqual({ event: 'add', name: 'preexisting', generation: 1, deleting: false });

    kubectlOk(['apply', '-f', '-'], userManifest(namespace, 'alice', ', department: eng'));
    await eventually(() => expect(store.get('User', { namespace, name: 'alice' }), 'alice in the cache').toBeDefined(), CACHE);
    kubectlOk(['apply', '-f', '-'], userManifest(namespace, 'alice', ', department: sales'));
    await eventually(() => expect(store.get('User', { namespace, name: 'alice' })?.spec.department, 'the move to sales').toBe('sales'), CACHE);
    expect(store.get('User', { namespace, name: 'alice' })!.metadata.generation).toBe(2);
    expect(events.filter((e) => e.name === 'alice').map((e) => e.event)).toEqual(['add', 'update']);
    expect(
      store
        .list('User', namespace)
        .map((u) => u.metadata.name)
        .sort(),
    ).toEqual(['alice', 'preexisting']);
  });

  it('a status update survives a concurrent writer: 409 on the stale cache, re-read, retried', async () => {
    const key = { namespace, name: 'alice' };
    const informer = store.informer('User');
    // Freeze the cache so the store writes with a resourceVersion that the label below makes stale.
    await informer.stop();
    const stale = store.get('User', key)!.metadata.resourceVersion;
    kubectlOk(['label', 'user', 'alice', '-n', namespace, 'team=emea']);
    const written = await store.updateStatus('User', key, { observedGeneration: 2, systems: '1/1' });
    expect(written!.metadata.resourceVersion).not.toBe(stale);
    expect(written!.metadata.labels).toEqual({ team: 'emea' });
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'status write conflicted; re-reading', object: `${namespace}/alice`, attempt: 1 }));
    await informer.start();
    expect(kubectlOk(['get', 'user', 'alice', '-n', namespace, '-o', 'jsonpath={.status.systems} {.metadata.generation}'])).toBe('1/1 2');
    expect(await store.updateStatus('User', { namespace, name: 'nobody' }, {})).toBeUndefined();
  });

  it("keeps one parsed copy with no managedFields in its cache, and its status writes leave the server's as they are", async () => {
    const key = { namespace, name: 'alice' };
    const before = JSON.parse(kubectlOk(['get', 'user', 'alice', '-n', namespace, '-o', 'json', '--show-managed-fields'])).metadata.managedFields as Array<{
      manager: string;
    }>;
    expect(before.length).toBeGreaterThan(0);
    const written = await store.updateStatus('User', key, { observedGeneration: 2, systems: '2/2' });
    // Once the watch brought the written version, the store reads it (get) and its cache copy has none.
    await eventually(
      () => expect(store.get('User', key)?.metadata.resourceVersion, 'the written version in the cache').toBe(written!.metadata.resourceVersion),
      CACHE,
    );
    const raw = store.informer('User').get('alice', namespace) as { metadata: { managedFields?: unknown } } | undefined;
    expect(raw?.metadata.managedFields).toBeUndefined();
    // One copy per version: the informer's cache keeps the store's parsed object itself, not a raw one beside it.
    expect(store.get('User', key)).toBe(raw);
    expect(Object.isFrozen(raw)).toBe(true);
    const after = JSON.parse(kubectlOk(['get', 'user', 'alice', '-n', namespace, '-o', 'json', '--show-managed-fields'])).metadata.managedFields as Array<{
      manager: string;
      subresource?: string;
    }>;
    expect(after.map((f) => f.manager)).toEqual(expect.arrayContaining(before.map((f) => f.manager)));
    expect(after.some((f) => f.subresource === 'status')).toBe(true);
  });

  it('a status made from the freshest one keeps what another writer stored meanwhile: applied to the cache, then to the re-read after the 409', async () => {
    const key = { namespace, name: 'adoptee' };
    kubectlOk(['apply', '-f', '-'], userManifest(namespace, 'adoptee'));
    await eventually(() => expect(store.get('User', key), 'adoptee in the cache').toBeDefined(), CACHE);
    const informer = store.informer('User');
    await informer.stop();
    // Another pass records an adoption this store's frozen cache has not seen.
    const adopted = { system: 'wiki', state: 'present', adopted: 'matchUserName', adoptedAt: '2030-01-01T00:00:00Z' };
    kubectlOk(['patch', 'user', 'adoptee', '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { accounts: [adopted] } })]);
    const seen: Array<number | undefined> = [];
    const written = await store.updateStatus('User', key, (latest) => {
      seen.push(latest?.accounts?.length);
      return { ...latest, observedGeneration: 1, systems: '2/2' };
    });
    await informer.start();
    expect(seen).toEqual([undefined, 1]);
    expect(written!.status).toMatchObject({ systems: '2/2', accounts: [adopted] });
    expect(kubectlOk(['get', 'user', 'adoptee', '-n', namespace, '-o', 'jsonpath={.status.systems} {.status.accounts[0].adopted}'])).toBe('2/2 matchUserName');
  });

  it('annotations are set and removed with a merge patch', async () => {
    const key = { namespace, name: 'alice' };
    await store.setAnnotations('User', key, { 'rollcall.dev/approve-deprovision': '3' });
    expect(kubectlOk(['get', 'user', 'alice', '-n', namespace, '-o', 'jsonpath={.metadata.annotations}'])).toContain('"rollcall.dev/approve-deprovision":"3"');
    await store.setAnnotations('User', key, { 'rollcall.dev/approve-deprovision': null });
    expect(kubectlOk(['get', 'user', 'alice', '-n', namespace, '-o', 'jsonpath={.metadata.annotations}'])).not.toContain('approve-deprovision');
  });

  it('finalizers hold a deleted object until the store removes the last one', async () => {
    const key = { namespace, name: 'alice' };
    const held = await store.setFinalizer('User', key, FINALIZER, true);
    expect(held!.metadata.finalizers).toEqual([FINALIZER]);
    expect(kubectlOk(['get', 'user', 'alice', '-n', namespace, '-o', 'jsonpath={.metadata.finalizers}'])).toBe(`["${FINALIZER}"]`);

    kubectlOk(['delete', 'user', 'alice', '-n', namespace, '--wait=false']);
    await eventually(() => expect(store.get('User', key)?.metadata.deletionTimestamp, 'the deletionTimestamp').toBeDefined(), CACHE);
    expect(await store.setFinalizer('User', key, FINALIZER, false)).toBeUndefined();
    await eventually(() => expect(store.get('User', key), 'alice gone from the cache').toBeUndefined(), CACHE);
    expect(kubectl(['get', 'user', 'alice', '-n', namespace]).stderr).toMatch(/NotFound/);
    expect(events.filter((e) => e.name === 'alice').at(-1)).toMatchObject({ event: 'delete' });
    expect(await store.setFinalizer('User', key, FINALIZER, false)).toBeUndefined();
  });

  it('creates an object, and a second create returns the one that exists', async () => {
    const review = {
      apiVersion: 'rollcall.dev/v1alpha1' as const,
      kind: 'AccessReview' as const,
      metadata: { name: 'created', namespace, labels: { series: 'a' } },
      spec: { scope: {}, reviewers: ['rita'], dueDate: '2030-01-01T00:00:00Z', defaultDecision: 'keep' as const },
    };
    const created = await store.create('AccessReview', review);
    expect(created).toMatchObject({ metadata: { name: 'created', labels: { series: 'a' } }, spec: { reviewers: ['rita'] } });
    expect(created!.metadata.uid).toBeTruthy();
    const again = await store.create('AccessReview', { ...review, spec: { ...review.spec, reviewers: ['someone-else'] } });
    expect(again!.metadata.uid).toBe(created!.metadata.uid);
    expect(kubectlOk(['get', 'arev', 'created', '-n', namespace, '-o', 'jsonpath={.spec.reviewers[0]}'])).toBe('rita');
  });

  it('records Events that kubectl shows, and reads Secrets decoded', async () => {
    const user = store.get('User', { namespace, name: 'preexisting' })!;
    await store.recordEvent('User', user, 'Normal', 'AccountCreated', 'created uid=preexisting in corp-ldap');
    await store.eventsWritten();
    const listed = JSON.parse(kubectlOk(['get', 'events', '-n', namespace, '--field-selector', 'involvedObject.name=preexisting', '-o', 'json'])) as {
      items: Array<Record<string, unknown>>;
    };
    expect(listed.items).toContainEqual(
      expect.objectContaining({
        reason: 'AccountCreated',
        message: 'created uid=preexisting in corp-ldap',
        type: 'Normal',
        count: 1,
        source: { component: 'rollcall' },
        reportingComponent: 'rollcall',
        involvedObject: expect.objectContaining({ kind: 'User', name: 'preexisting', namespace, uid: user.metadata.uid, apiVersion: 'rollcall.dev/v1alpha1' }),
      }),
    );

    kubectlOk(['create', 'secret', 'generic', 'creds', '-n', namespace, '--from-literal=password=s3cret: with colon']);
    expect(await store.getSecret({ namespace, name: 'creds' })).toEqual({ password: 's3cret: with colon' });
    expect(await store.getSecret({ namespace, name: 'missing' })).toBeUndefined();
    // Whether it opts in as credentials: its labels and annotations, read from the API server.
    expect(await store.getSecretMetadata({ namespace, name: 'creds' })).toEqual({ labels: {}, annotations: {} });
    kubectlOk(['label', 'secret', 'creds', '-n', namespace, 'rollcall.dev/credentials=true']);
    kubectlOk(['annotate', 'secret', 'creds', '-n', namespace, 'rollcall.dev/allowed-systems=corp-ldap']);
    expect(await store.getSecretMetadata({ namespace, name: 'creds' })).toEqual({
      labels: { 'rollcall.dev/credentials': 'true' },
      annotations: { 'rollcall.dev/allowed-systems': 'corp-ldap' },
    });
    expect(await store.getSecretMetadata({ namespace, name: 'missing' })).toBeUndefined();
  });

  it('correlates Events as client-go does: a repeat raises the count, similar ones combine past ten, and an object gets at most 25 Event objects of a type at once', async () => {
    const user = store.get('User', { namespace, name: 'preexisting' })!;
    // 40 times the same, 30 different messages of one reason, then 30 more reasons, then a Warning.
    for (let i = 0; i < 40; i++) await store.recordEvent('User', user, 'Normal', 'AccountUpdated', 'db: set mail');
    for (let i = 0; i < 30; i++) await store.recordEvent('User', user, 'Normal', 'EntitlementGranted', `db: granted role${i}`);
    for (let i = 0; i < 30; i++) await store.recordEvent('User', user, 'Normal', `Reason${i}`, 'x');
    await store.recordEvent('User', user, 'Warning', 'GuardTripped', 'y');
    await store.eventsWritten();
    const items = (
      JSON.parse(kubectlOk(['get', 'events', '-n', namespace, '--field-selector', 'involvedObject.name=preexisting', '-o', 'json'])) as {
        items: Array<{ reason: string; message: string; count: number; type: string }>;
      }
    ).items;
    const of = (reason: string) => items.filter((e) => e.reason === reason);
    expect(of('AccountUpdated')).toEqual([expect.objectContaining({ message: 'db: set mail', count: 40 })]);
    const granted = of('EntitlementGranted');
    expect(granted).toHaveLength(11);
    expect(granted.filter((e) => e.message.startsWith('(combined from similar events): '))).toEqual([
      expect.objectContaining({ count: 20, message: '(combined from similar events): db: granted role29' }),
    ]);
    expect(granted.reduce((sum, e) => sum + e.count, 0)).toBe(30);
    // 25 Normal Event objects at once for one object: AccountCreated (the test before), AccountUpdated, 11 grants, and 12 of the 30 reasons.
    expect(items.filter((e) => e.type === 'Normal')).toHaveLength(25);
    expect(items.filter((e) => e.reason.startsWith('Reason'))).toHaveLength(12);
    // The Warning after them has a bucket of its own: routine Events never starve it.
    expect(of('GuardTripped')).toEqual([expect.objectContaining({ type: 'Warning', message: 'y' })]);
  });

  it('an event that cannot be recorded is logged and kept for a retry, not thrown', async () => {
    const ghost = { ...store.get('User', { namespace, name: 'preexisting' })!, metadata: { name: 'ghost', namespace: 'no-such-namespace' } };
    await expect(store.recordEvent('User', ghost, 'Warning', 'SyncFailed', 'x')).resolves.toBeUndefined();
    await store.eventsWritten();
    expect(lines.some((line) => line.msg === 'could not post an Event; it will be retried')).toBe(true);
  });

  it('the watchdog restarts a watch whose connection failed, and catches up on what happened meanwhile', async () => {
    const direct = loadKubeConfig(inject('kubeconfig'));
    const proxy = await cuttableProxy(new URL(direct.getCurrentCluster()!.server));
    const kubeconfig = loadKubeConfig(inject('kubeconfig'));
    kubeconfig.loadFromOptions({
      clusters: kubeconfig.clusters.map((cluster) => ({ ...cluster, server: proxy.url })),
      users: kubeconfig.users,
      contexts: kubeconfig.contexts,
      currentContext: kubeconfig.currentContext,
    });
    const own = capturedLogger();
    const watched = new KubeStore({ kubeconfig, namespace, logger: own.logger, watchdog: { restartDelayMs: 200, maxRestartDelayMs: 1000 } });
    try {
      await watched.start();
      await proxy.cut();
      await eventually(() => expect(own.records, 'the watch error').toContainEqual(expect.objectContaining({ msg: 'watch failed' })), CACHE);
      kubectlOk(['apply', '-f', '-'], userManifest(namespace, 'during-outage'));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await proxy.restore();
      await eventually(() => expect(watched.get('User', { namespace, name: 'during-outage' }), 'the object created during the outage').toBeDefined(), CACHE);
      expect(watched.watchHealth().User.restarts).toBeGreaterThan(0);
      expect(own.records.some((line) => line.msg === 'watch restarted')).toBe(true);
    } finally {
      await watched.stop();
      await proxy.close();
    }
  });

  it('the watchdog restarts a watch that went silent', async () => {
    const own = capturedLogger();
    const quiet = new KubeStore({
      kubeconfig: loadKubeConfig(inject('kubeconfig')),
      namespace,
      logger: own.logger,
      watchdog: { silentAfterMs: 300, restartDelayMs: 50 },
    });
    try {
      await quiet.start();
      await eventually(() => expect(quiet.watchHealth().AccessRole.restarts, 'a restart of the silent AccessRole watch').toBeGreaterThan(0), {
        ...CACHE,
        timeoutMs: 10_000,
      });
      expect(own.records).toContainEqual(
        expect.objectContaining({ informer: 'AccessRole', msg: 'restarting the watch', reason: expect.stringMatching(/^no watch event and no listing for/) }),
      );
      kubectlOk(
        ['apply', '-f', '-'],
        `apiVersion: rollcall.dev/v1alpha1\nkind: AccessRole\nmetadata: {name: after-restart, namespace: ${namespace}}\nspec: {}`,
      );
      await eventually(
        () => expect(quiet.get('AccessRole', { namespace, name: 'after-restart' }), 'an AccessRole seen after the restart').toBeDefined(),
        CACHE,
      );
    } finally {
      await quiet.stop();
    }
  });

  it('reuses its connections to the API server instead of one TLS handshake per request', async () => {
    let connections = 0;
    const counted = () => void connections++;
    subscribe('undici:client:connected', counted);
    try {
      const core = loadKubeConfig(inject('kubeconfig')).makeApiClient(CoreV1Api);
      for (let i = 0; i < 30; i++) await core.readNamespace({ name: namespace });
    } finally {
      unsubscribe('undici:client:connected', counted);
    }
    // client-node alone opens one connection per request (30 here).
    expect(connections).toBeGreaterThan(0);
    expect(connections).toBeLessThanOrEqual(2);
  });
});
