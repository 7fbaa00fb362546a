// The in-memory store as the API server it stands in for: what an apply, a status write, a
// finalizer and a deletion do to objects and watch events, and what a snapshot keeps.
import { afterEach, describe, expect, it } from 'vitest';
import { isUnchanging, type KindName } from '../../../src/api/index.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { ApplyRefusedError } from '../../../src/manifests/errors.ts';
import { parseManifests, type LoadedObject } from '../../../src/manifests/load.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import type { ResourceByKind, WatchEvent } from '../../../src/store/store.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';

const FINALIZER = 'rollcall.dev/deprovision';
const alice = { namespace: 'default', name: 'alice' };
const bob = { namespace: 'default', name: 'bob' };

function userYaml(name: string, spec: Record<string, string>, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): string {
  const metadata = { name, ...(Object.keys(labels).length && { labels }), ...(Object.keys(annotations).length && { annotations }) };
  return `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: ${JSON.stringify(metadata)}\nspec: ${JSON.stringify({ userName: name, ...spec })}\n`;
}

/** Objects as the manifest loader hands them over (defaults applied, status dropped). */
function declared(...documents: string[]): LoadedObject[] {
  const { objects, errors } = parseManifests(documents.join('---\n'), 'test.yaml');
  expect(errors).toEqual([]);
  return objects;
}

function recordEvents<K extends KindName>(store: MemoryStore, kind: K) {
  const events: Array<{ event: WatchEvent; object: ResourceByKind[K] }> = [];
  store.watch(kind, (event, object) => events.push({ event, object }));
  return events;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('MemoryStore', () => {
  let store: MemoryStore | undefined;
  afterEach(async () => {
    await store?.stop();
    store = undefined;
  });

  it('creates objects like the API server: defaults, namespace, uid, generation 1; Secrets readable', async () => {
    store = new MemoryStore([], { logger: capturedLogger().logger });
    const events = recordEvents(store, 'User');
    store.applyDeclared([
      ...declared(userYaml('alice', { department: 'eng' })),
      ...declared('apiVersion: v1\nkind: Secret\nmetadata: { name: creds }\ndata: { password: czNjcmV0 }\n'),
    ]);
    await store.start();
    await tick();
    const user = store.get('User', alice)!;
    expect(user.spec).toMatchObject({ userName: 'alice', state: 'active', department: 'eng' });
    expect(user.metadata).toMatchObject({ namespace: 'default', generation: 1 });
    expect(user.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(user.metadata.creationTimestamp!)).not.toBeNaN();
    expect(store.list('User', 'default')).toHaveLength(1);
    expect(store.list('User', 'elsewhere')).toHaveLength(0);
    expect(events.map((e) => e.event)).toEqual(['add']);
    expect(await store.getSecret({ namespace: 'default', name: 'creds' })).toEqual({ password: 's3cret' });
    expect(await store.getSecret({ namespace: 'default', name: 'nope' })).toBeUndefined();
    // Secrets are replaced with each apply, and never part of a snapshot.
    expect(store.snapshot().map((s) => s.object.kind)).toEqual(['User']);
    store.applyDeclared(declared(userYaml('alice', { department: 'eng' })));
    expect(await store.getSecret({ namespace: 'default', name: 'creds' })).toBeUndefined();
  });

  it('status writes bump resourceVersion, never generation, fire update, and refuse an invalid status', async () => {
    store = new MemoryStore([{ apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', metadata: { name: 'alice' }, spec: { userName: 'alice' } }], {
      logger: capturedLogger().logger,
    });
    const events = recordEvents(store, 'User');
    await store.start();
    const before = store.get('User', alice)!;
    const after = await store.updateStatus('User', alice, { observedGeneration: 1, systems: '1/1' });
    expect(after!.status).toEqual({ observedGeneration: 1, systems: '1/1' });
    expect(after!.metadata.generation).toBe(1);
    expect(Number(after!.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
    // The same status again is a no-op, as on the API server: no new version, no event.
    const same = await store.updateStatus('User', alice, { observedGeneration: 1, systems: '1/1' });
    expect(same!.metadata.resourceVersion).toBe(after!.metadata.resourceVersion);
    await expect(store.updateStatus('User', alice, { accounts: [{ system: 'x', state: 'lost' }] } as never)).rejects.toThrow(
      /invalid status for User default\/alice: accounts\.0\.state/,
    );
    await tick();
    expect(events.map((e) => e.event)).toEqual(['add', 'update']);
    expect(() => {
      (store!.get('User', alice)!.spec as { state: string }).state = 'terminated';
    }).toThrow(TypeError);
    expect(await store.updateStatus('User', { namespace: 'default', name: 'nobody' }, {})).toBeUndefined();
  });

  it('list hands out one unchanging list until the kind is written: a list read before a write keeps what it held', async () => {
    store = new MemoryStore([], { logger: capturedLogger().logger });
    store.applyDeclared(declared(userYaml('alice', {}), userYaml('bob', {})));
    const before = store.list('User', 'default');
    expect(store.list('User', 'default')).toBe(before);
    expect(isUnchanging(before)).toBe(true);
    await store.updateStatus('User', alice, { observedGeneration: 1, systems: '1/1' });
    const after = store.list('User', 'default');
    expect(after).not.toBe(before);
    expect(before.find((user) => user.metadata.name === 'alice')!.status?.systems).toBeUndefined();
    expect(after.find((user) => user.metadata.name === 'alice')!.status?.systems).toBe('1/1');
  });

  it('annotations: set and remove, metadata-only update without a generation bump', async () => {
    store = new MemoryStore(
      [{ apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', metadata: { name: 'alice', annotations: { keep: 'me' } }, spec: { userName: 'alice' } }],
      { logger: capturedLogger().logger },
    );
    const events = recordEvents(store, 'User');
    await store.start();
    await store.setAnnotations('User', alice, { 'rollcall.dev/approve-deprovision': '3' });
    expect(store.get('User', alice)!.metadata.annotations).toEqual({ keep: 'me', 'rollcall.dev/approve-deprovision': '3' });
    await store.setAnnotations('User', alice, { 'rollcall.dev/approve-deprovision': null });
    expect(store.get('User', alice)!.metadata.annotations).toEqual({ keep: 'me' });
    expect(store.get('User', alice)!.metadata.generation).toBe(1);
    await tick();
    expect(events.map((e) => e.event)).toEqual(['add', 'update', 'update']);
  });

  it('applyDeclared: creates, updates spec with a generation bump and status kept, labels without one, deletes what is gone', async () => {
    store = new MemoryStore([], { logger: capturedLogger().logger });
    store.applyDeclared(declared(userYaml('alice', { department: 'eng' })));
    const events = recordEvents(store, 'User');
    await store.start();
    await store.updateStatus('User', alice, { observedGeneration: 1, systems: '1/1' });

    store.applyDeclared(declared(userYaml('alice', { department: 'eng' }), userYaml('bob', {})));
    expect(store.get('User', bob)).toBeDefined();
    // Applying what is already there writes nothing.
    const unchanged = store.get('User', alice)!.metadata.resourceVersion;
    store.applyDeclared(declared(userYaml('alice', { department: 'eng' }), userYaml('bob', {})));
    expect(store.get('User', alice)!.metadata.resourceVersion).toBe(unchanged);

    store.applyDeclared(declared(userYaml('alice', { department: 'sales' }), userYaml('bob', {})));
    const moved = store.get('User', alice)!;
    expect(moved.spec.department).toBe('sales');
    expect(moved.metadata.generation).toBe(2);
    expect(moved.status).toEqual({ observedGeneration: 1, systems: '1/1' });

    store.applyDeclared(declared(userYaml('alice', { department: 'sales' }, { team: 'emea' }), userYaml('bob', {})));
    expect(store.get('User', alice)!.metadata.labels).toEqual({ team: 'emea' });
    expect(store.get('User', alice)!.metadata.generation).toBe(2);

    store.applyDeclared(declared(userYaml('alice', { department: 'sales' }, { team: 'emea' })));
    expect(store.get('User', bob)).toBeUndefined();
    await tick();
    expect(events.map((e) => `${e.event} ${e.object.metadata.name}`)).toEqual([
      'add alice',
      'update alice',
      'add bob',
      'update alice',
      'update alice',
      'delete bob',
    ]);
  });

  it('deletion waits for finalizers: deletionTimestamp first, gone when the last finalizer is removed', async () => {
    store = new MemoryStore([], { logger: capturedLogger().logger });
    store.applyDeclared(declared(userYaml('alice', {})));
    const events = recordEvents(store, 'User');
    await store.start();
    const held = await store.setFinalizer('User', alice, FINALIZER, true);
    expect(held!.metadata.finalizers).toEqual([FINALIZER]);
    expect((await store.setFinalizer('User', alice, FINALIZER, true))!.metadata.resourceVersion).toBe(held!.metadata.resourceVersion);

    store.applyDeclared([]);
    const deleting = store.get('User', alice)!;
    expect(deleting.metadata.deletionTimestamp).toBeDefined();
    expect(deleting.metadata.generation).toBe(2);
    await expect(store.setFinalizer('User', alice, 'other/finalizer', true)).rejects.toThrow(/being deleted/);
    // Status can still be written while the controller cleans up.
    await store.updateStatus('User', alice, { systems: '0/1' });

    expect(await store.setFinalizer('User', alice, FINALIZER, false)).toBeUndefined();
    expect(store.get('User', alice)).toBeUndefined();
    await tick();
    expect(events.map((e) => e.event)).toEqual(['add', 'update', 'update', 'update', 'delete']);
    expect(events.at(-1)!.object.metadata.deletionTimestamp).toBeDefined();
  });

  it('applyDeclared refuses a changed immutable field and then applies nothing at all', async () => {
    store = new MemoryStore([], { logger: capturedLogger().logger });
    store.applyDeclared(declared(userYaml('alice', { department: 'eng' })));
    let refused: unknown;
    try {
      store.applyDeclared(declared(userYaml('alice', { userName: 'alice2' }), userYaml('bob', {})));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ApplyRefusedError);
    expect((refused as ApplyRefusedError).problems).toEqual(['User "alice": spec.userName: userName is immutable']);
    expect(store.get('User', alice)!.spec.userName).toBe('alice');
    expect(store.get('User', bob)).toBeUndefined();
  });

  it('a file annotation is applied when it appears or changes; one the controller removed stays removed', async () => {
    const withApproval = (count: string) => userYaml('alice', {}, {}, { 'rollcall.dev/approve-deprovision': count, owner: 'hr' });
    store = new MemoryStore([], { logger: capturedLogger().logger });
    store.applyDeclared(declared(withApproval('3')));
    await store.setAnnotations('User', alice, { 'rollcall.dev/approve-deprovision': null, 'set-by': 'controller' });

    // Read again unchanged: the spent approval does not come back, the controller's own annotation stays.
    store.applyDeclared(declared(withApproval('3')));
    expect(store.get('User', alice)!.metadata.annotations).toEqual({ owner: 'hr', 'set-by': 'controller' });
    // A new approval is applied.
    store.applyDeclared(declared(withApproval('4')));
    expect(store.get('User', alice)!.metadata.annotations).toEqual({ owner: 'hr', 'set-by': 'controller', 'rollcall.dev/approve-deprovision': '4' });
    // Removed from the file: removed from the object; what the file never set stays.
    store.applyDeclared(declared(userYaml('alice', {})));
    expect(store.get('User', alice)!.metadata.annotations).toEqual({ 'set-by': 'controller' });
  });

  it('snapshot and restore keep what the controller wrote and what the files last applied', async () => {
    const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));
    const first = new MemoryStore([], { logger: capturedLogger().logger, clock });
    first.applyDeclared(declared(userYaml('alice', { department: 'eng' }, {}, { 'rollcall.dev/approve-deprovision': '1' }), userYaml('bob', {})));
    await first.start();
    await first.setFinalizer('User', alice, FINALIZER, true);
    await first.setFinalizer('User', bob, FINALIZER, true);
    await first.updateStatus('User', alice, { observedGeneration: 1, systems: '1/1' });
    await first.setAnnotations('User', alice, { 'rollcall.dev/approve-deprovision': null });
    first.applyDeclared(declared(userYaml('alice', { department: 'eng' }, {}, { 'rollcall.dev/approve-deprovision': '1' })));
    const snapshot = first.snapshot();
    await first.stop();
    expect(snapshot.map((s) => s.object.metadata.resourceVersion)).toEqual([undefined, undefined]);

    clock.advance(60_000);
    store = MemoryStore.restore(structuredClone(snapshot), { logger: capturedLogger().logger, clock });
    const events = recordEvents(store, 'User');
    const before = first.get('User', alice)!;
    const restored = store.get('User', alice)!;
    expect(restored.metadata).toMatchObject({ uid: before.metadata.uid, creationTimestamp: '2026-11-26T09:00:00Z', generation: 1, finalizers: [FINALIZER] });
    expect(restored.status).toEqual({ observedGeneration: 1, systems: '1/1' });
    expect(store.get('User', bob)!.metadata).toMatchObject({ deletionTimestamp: '2026-11-26T09:00:00Z', finalizers: [FINALIZER], generation: 2 });

    // The same files applied again change nothing: no spent approval back, no generation bump.
    store.applyDeclared(declared(userYaml('alice', { department: 'eng' }, {}, { 'rollcall.dev/approve-deprovision': '1' })));
    expect(store.get('User', alice)!.metadata.annotations ?? {}).toEqual({});
    expect(store.get('User', alice)!.metadata.generation).toBe(1);
    await store.start();
    await tick();
    expect(events.map((e) => `${e.event} ${e.object.metadata.name}`)).toEqual(['add alice', 'add bob']);
  });

  it('restore drops a deleted object that no finalizer holds any more, as the API server would have', () => {
    const gone = {
      apiVersion: 'rollcall.dev/v1alpha1',
      kind: 'User',
      metadata: { name: 'alice', namespace: 'default', deletionTimestamp: '2026-11-26T09:00:00Z', finalizers: [] },
      spec: { userName: 'alice' },
    };
    store = MemoryStore.restore([{ object: gone as never, appliedAnnotations: {} }], { logger: capturedLogger().logger });
    expect(store.list('User')).toEqual([]);
  });

  it('reads a Secret the manifests do not hold from its fallback; one they hold wins', async () => {
    // Another store stands in for the cluster: anything with getSecret will do.
    const secret = (name: string, password: string) => `apiVersion: v1\nkind: Secret\nmetadata: { name: ${name} }\nstringData: { password: ${password} }\n`;
    const cluster = new MemoryStore(declared(secret('creds', 'from-cluster'), secret('other', 'from-cluster')), { logger: capturedLogger().logger });
    store = new MemoryStore(declared(secret('creds', 'from-files')), { logger: capturedLogger().logger, fallbackSecrets: cluster });
    expect(await store.getSecret({ namespace: 'default', name: 'creds' })).toEqual({ password: 'from-files' });
    expect(await store.getSecret({ namespace: 'default', name: 'other' })).toEqual({ password: 'from-cluster' });
    expect(await store.getSecret({ namespace: 'default', name: 'missing' })).toBeUndefined();
  });

  it('records events as structured log lines', async () => {
    const { logger, records: lines } = capturedLogger();
    store = new MemoryStore([{ apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', metadata: { name: 'alice' }, spec: { userName: 'alice' } }], { logger });
    await store.recordEvent('User', store.get('User', alice)!, 'Normal', 'AccountCreated', 'created uid=alice in corp-ldap');
    expect(lines.at(-1)).toMatchObject({
      level: 30,
      msg: 'created uid=alice in corp-ldap',
      event: { kind: 'User', namespace: 'default', name: 'alice', type: 'Normal', reason: 'AccountCreated' },
    });
  });
});
