import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KindName } from '../../../src/api/index.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import type { ResourceByKind, WatchEvent } from '../../../src/store/store.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';

const FINALIZER = 'rollcall.dev/deprovision';
const alice = { namespace: 'default', name: 'alice' };


function userYaml(name: string, spec: Record<string, string>, labels: Record<string, string> = {}): string {
  const specLines = Object.entries({ userName: name, ...spec }).map(([k, v]) => `  ${k}: "${v}"`);
  const labelLines = Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`);
  return ['apiVersion: rollcall.dev/v1alpha1', 'kind: User', 'metadata:', `  name: ${name}`, ...(labelLines.length ? ['  labels:', ...labelLines] : []), 'spec:', ...specLines, ''].join('\n');
}

function recordEvents<K extends KindName>(store: MemoryStore, kind: K) {
  const events: Array<{ event: WatchEvent; object: ResourceByKind[K] }> = [];
  store.watch(kind, (event, object) => events.push({ event, object }));
  return events;
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('MemoryStore', () => {
  let dir = '';
  let store: MemoryStore | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-store-'));
  });
  afterEach(async () => {
    await store?.stop();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads a directory like the API server creates objects: defaults, namespace, uid, generation 1', async () => {
    writeFileSync(join(dir, 'users.yaml'), userYaml('alice', { department: 'eng' }));
    writeFileSync(join(dir, 'secret.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata: { name: creds }\ndata: { password: czNjcmV0 }\n');
    store = MemoryStore.fromDirectory(dir, { watch: false, logger: capturedLogger().logger });
    const events = recordEvents(store, 'User');
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
  });

  it('refuses an invalid directory, listing every problem', () => {
    writeFileSync(join(dir, 'a.yaml'), userYaml('alice', { state: 'gone' }));
    writeFileSync(join(dir, 'b.yaml'), userYaml('bob', { email: 'nope' }));
    expect(() => MemoryStore.fromDirectory(dir, { watch: false, logger: capturedLogger().logger })).toThrow(
      /a\.yaml: User "alice" \(document 1\): spec\.state: must be one of active, suspended, terminated\n.*b\.yaml: User "bob" \(document 1\): spec\.email: must be an e-mail address/,
    );
  });

  it('status writes bump resourceVersion, never generation, fire update, and refuse an invalid status', async () => {
    store = new MemoryStore([{ apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', metadata: { name: 'alice' }, spec: { userName: 'alice' } }], { logger: capturedLogger().logger });
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
    await expect(store.updateStatus('User', alice, { accounts: [{ system: 'x', state: 'lost' }] } as never)).rejects.toThrow(/invalid status for User default\/alice: accounts\.0\.state/);
    await tick();
    expect(events.map((e) => e.event)).toEqual(['add', 'update']);
    expect(() => {
      (store!.get('User', alice)!.spec as { state: string }).state = 'terminated';
    }).toThrow(TypeError);
    expect(await store.updateStatus('User', { namespace: 'default', name: 'nobody' }, {})).toBeUndefined();
  });

  it('annotations: set and remove, metadata-only update without a generation bump', async () => {
    store = new MemoryStore([{ apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', metadata: { name: 'alice', annotations: { keep: 'me' } }, spec: { userName: 'alice' } }], { logger: capturedLogger().logger });
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

  it('follows file changes: add, spec update with generation bump and status kept, label-only update, deletion', async () => {
    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { department: 'eng' }));
    store = MemoryStore.fromDirectory(dir, { watch: true, logger: capturedLogger().logger, debounceMs: 30 });
    const events = recordEvents(store, 'User');
    await store.start();
    await store.updateStatus('User', alice, { observedGeneration: 1, systems: '1/1' });

    writeFileSync(join(dir, 'bob.yaml'), userYaml('bob', {}));
    await until(() => store!.get('User', { namespace: 'default', name: 'bob' }) !== undefined);

    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { department: 'sales' }));
    await until(() => store!.get('User', alice)!.spec.department === 'sales');
    const moved = store.get('User', alice)!;
    expect(moved.metadata.generation).toBe(2);
    expect(moved.status).toEqual({ observedGeneration: 1, systems: '1/1' });

    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { department: 'sales' }, { team: 'emea' }));
    await until(() => store!.get('User', alice)!.metadata.labels?.team === 'emea');
    expect(store.get('User', alice)!.metadata.generation).toBe(2);

    unlinkSync(join(dir, 'bob.yaml'));
    await until(() => store!.get('User', { namespace: 'default', name: 'bob' }) === undefined);
    await tick();
    expect(events.map((e) => `${e.event} ${e.object.metadata.name}`)).toEqual(['add alice', 'update alice', 'add bob', 'update alice', 'update alice', 'delete bob']);
  });

  it('deletion waits for finalizers: deletionTimestamp first, gone when the last finalizer is removed', async () => {
    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', {}));
    store = MemoryStore.fromDirectory(dir, { watch: true, logger: capturedLogger().logger, debounceMs: 30 });
    const events = recordEvents(store, 'User');
    await store.start();
    const held = await store.setFinalizer('User', alice, FINALIZER, true);
    expect(held!.metadata.finalizers).toEqual([FINALIZER]);
    expect((await store.setFinalizer('User', alice, FINALIZER, true))!.metadata.resourceVersion).toBe(held!.metadata.resourceVersion);

    unlinkSync(join(dir, 'alice.yaml'));
    await until(() => store!.get('User', alice)?.metadata.deletionTimestamp !== undefined);
    const deleting = store.get('User', alice)!;
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

  it('an invalid change is logged and the previous state kept; fixing it applies the change', async () => {
    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { department: 'eng' }));
    const { logger, records: lines } = capturedLogger();
    store = MemoryStore.fromDirectory(dir, { watch: true, logger, debounceMs: 30 });
    await store.start();

    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { department: 'sales', state: 'retired' }));
    await until(() => lines.some((line) => String(line.msg).includes('keeping the previous state')));
    expect(lines.map((line) => line.msg)).toContainEqual(expect.stringMatching(/alice\.yaml: User "alice" \(document 1\): spec\.state: must be one of active, suspended, terminated$/));
    expect(store.get('User', alice)!.spec.department).toBe('eng');

    // Immutable fields are refused on change, like the CRD's transition rule.
    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { userName: 'alice2' }));
    await until(() => lines.some((line) => String(line.msg).includes('spec.userName: userName is immutable')));
    expect(store.get('User', alice)!.spec.userName).toBe('alice');

    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { department: 'sales' }));
    await until(() => store!.get('User', alice)!.spec.department === 'sales');
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
