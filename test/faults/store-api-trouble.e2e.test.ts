// KubeStore against the real API server behind a proxy that misbehaves (test/faults/api-proxy.ts):
// a request that is never answered times out and is retryable instead of holding its caller (or
// the watchdog's re-list) forever; a watch that goes silent while its connection stays open is
// noticed, re-listed and caught up, deletions included; a healthy quiet watch is left alone.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RetryableError } from '../../src/api/index.ts';
import { KubeStore, loadKubeConfig } from '../../src/store/kube-store.ts';
import { createNamespace, kubectlOk } from '../e2e/kube.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { eventually } from '../helpers/eventually.ts';
import { startApiProxy, type ApiProxy } from './api-proxy.ts';

const user = (namespace: string, name: string) =>
  `{"apiVersion":"rollcall.dev/v1alpha1","kind":"User","metadata":{"name":"${name}","namespace":"${namespace}"},"spec":{"userName":"${name}"}}`;
const SILENT_AFTER_MS = 5_000;
const REQUEST_TIMEOUT_MS = 2_000;

describe('KubeStore when the API server path misbehaves', () => {
  let namespace: string;
  let proxy: ApiProxy;
  let store: KubeStore;
  const { logger, records } = capturedLogger();

  beforeAll(async () => {
    namespace = createNamespace('faults-store');
    kubectlOk(['apply', '-f', '-'], user(namespace, 'first'));
    proxy = await startApiProxy(inject('kubeconfig'), mkdtempSync(join(tmpdir(), 'rollcall-faults-store-')));
    store = new KubeStore({
      kubeconfig: loadKubeConfig(proxy.kubeconfig),
      namespace,
      logger,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      watchdog: { silentAfterMs: SILENT_AFTER_MS, watchSeconds: 2, restartDelayMs: 200, maxRestartDelayMs: 1_000 },
    });
    await store.start();
  });

  afterAll(async () => {
    await store?.stop();
    await proxy?.close();
  });

  it('a quiet healthy watch proves itself (the server ends it cleanly) and is not re-listed', async () => {
    const before = store.watchHealth().User.restarts;
    // Three times the silence bound without a single change in the namespace.
    await new Promise((resolve) => setTimeout(resolve, 3 * SILENT_AFTER_MS));
    const health = store.watchHealth().User;
    expect(health.dead).toBeUndefined();
    expect(health.restarts).toBe(before);
  }, 60_000);

  it('a request the API server never answers fails as retryable after the deadline', async () => {
    proxy.hang((method, url) => method === 'GET' && url.pathname.endsWith('/secrets/hung'));
    const started = performance.now();
    const error = await store.getSecret({ namespace, name: 'hung' }).catch((e: unknown) => e);
    const tookMs = performance.now() - started;
    proxy.stopHanging();
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toMatch(/did not answer readNamespacedSecret within 2s/);
    expect(tookMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(tookMs).toBeLessThan(20_000);
    console.log(`[figures] hung request failed after ${Math.round(tookMs)} ms (deadline ${REQUEST_TIMEOUT_MS} ms)`);
  });

  it('a re-list that hangs does not stall the watchdog: it times out, is retried, and catches up', async () => {
    // Every listing of Users hangs, and the watch goes silent: the watchdog's re-list must time out and retry.
    proxy.hang((method, url) => method === 'GET' && url.pathname.endsWith('/users') && url.searchParams.get('watch') === null);
    proxy.freezeWatches();
    const cutAt = performance.now();
    kubectlOk(['apply', '-f', '-'], user(namespace, 'during-hang'));
    kubectlOk(['delete', 'user', 'first', '-n', namespace]);
    await eventually(
      () => expect(store.watchHealth().User.dead).toMatch(/no watch event and no successful listing .*did not answer listNamespacedCustomObject/),
      { timeoutMs: 60_000 },
    );
    expect(store.get('User', { namespace, name: 'during-hang' })).toBeUndefined();
    const heldListings = proxy.counts().held;
    expect(heldListings).toBeGreaterThanOrEqual(2);

    proxy.stopHanging();
    proxy.thawWatches();
    const thawedAt = performance.now();
    await eventually(
      () => {
        expect(store.get('User', { namespace, name: 'during-hang' })).toBeDefined();
        expect(store.get('User', { namespace, name: 'first' })).toBeUndefined();
      },
      { timeoutMs: 30_000 },
    );
    const caughtUpMs = performance.now() - thawedAt;
    await eventually(() => expect(store.watchHealth().User.dead).toBeUndefined(), { timeoutMs: 10_000 });
    console.log(
      `[figures] hung re-lists: ${heldListings} held and retried; caught up ${Math.round(caughtUpMs)} ms after the API path came back (cut lasted ${Math.round(thawedAt - cutAt)} ms)`,
    );
    expect(records).toContainEqual(expect.objectContaining({ msg: 'restarting the watch' }));
  }, 120_000);

  it('a watch frozen with its connection open is noticed, re-listed and caught up, deletions included', async () => {
    kubectlOk(['apply', '-f', '-'], user(namespace, 'stays'));
    await eventually(() => expect(store.get('User', { namespace, name: 'stays' })).toBeDefined());
    const logsBefore = records.length;
    proxy.freezeWatches();
    const cutAt = performance.now();
    kubectlOk(['apply', '-f', '-'], user(namespace, 'made-during-cut'));
    kubectlOk(['delete', 'user', 'stays', '-n', namespace]);
    // Watches stay frozen throughout: only the watchdog's re-list can bring these.
    await eventually(
      () => {
        expect(store.get('User', { namespace, name: 'made-during-cut' })).toBeDefined();
        expect(store.get('User', { namespace, name: 'stays' })).toBeUndefined();
      },
      { timeoutMs: 30_000 },
    );
    const caughtUpMs = performance.now() - cutAt;
    proxy.thawWatches();
    expect(records.slice(logsBefore)).toContainEqual(
      expect.objectContaining({ msg: 'restarting the watch', informer: 'User', reason: expect.stringMatching(/^no watch event and no listing/) }),
    );
    expect(proxy.counts().droppedWatchChunks).toBeGreaterThan(0);
    console.log(
      `[figures] frozen watch: caught up ${Math.round(caughtUpMs)} ms after the cut (silence bound ${SILENT_AFTER_MS} ms); ${proxy.counts().droppedWatchChunks} watch chunks dropped by the proxy`,
    );
  }, 60_000);
});
