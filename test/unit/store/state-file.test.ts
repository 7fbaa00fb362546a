// The state file: what the in-memory store holds survives a restart, writes are coalesced and
// atomic, and a file that cannot be used stops the start with an error naming it.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseManifests } from '../../../src/manifests/load.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { defaultStatePath, readStateFile, StateFile, STATE_FORMAT } from '../../../src/store/state-file.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';

const FINALIZER = 'rollcall.dev/deprovision';
const MANIFESTS = '/srv/manifests';

function declared(text: string) {
  const { objects, errors } = parseManifests(text, 'test.yaml');
  expect(errors).toEqual([]);
  return objects;
}

function users(names: string[]): string {
  return names
    .map((name) => `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: ${name}, namespace: acme}\nspec: {userName: ${name}}\n`)
    .join('---\n');
}

const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: acme}\nstringData: {password: never-on-disk}\n';

describe('state file', () => {
  let dir = '';
  let path = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-state-'));
    path = join(dir, 'nested', 'run.state.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps what the controllers wrote across a restart; never a Secret', async () => {
    const { logger } = capturedLogger();
    const first = new MemoryStore([], { logger });
    first.applyDeclared([...declared(users(['alice', 'bob'])), ...declared(SECRET)]);
    const state = new StateFile(path, first, { logger, manifests: MANIFESTS });
    state.start();
    await first.start();
    const alice = { namespace: 'acme', name: 'alice' };
    await first.setFinalizer('User', alice, FINALIZER, true);
    await first.updateStatus('User', alice, { observedGeneration: 1, systems: '1/1', deprovisionStartedAt: '2026-11-26T09:00:00Z' });
    await first.stop();
    await state.close();

    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('never-on-disk');
    expect(readdirSync(join(dir, 'nested'))).toEqual(['run.state.json']); // no temporary file left behind
    const stored = readStateFile(path, MANIFESTS)!;
    expect(stored.map((s) => s.object.metadata.name)).toEqual(['alice', 'bob']);

    const second = MemoryStore.restore(stored, { logger });
    expect(second.get('User', alice)).toMatchObject({
      metadata: { uid: first.get('User', alice)!.metadata.uid, finalizers: [FINALIZER], generation: 1 },
      status: { systems: '1/1', deprovisionStartedAt: '2026-11-26T09:00:00Z' },
    });
  });

  it('a burst of thousands of status writes rewrites the file a few times, and close() writes the last of them', async () => {
    const { logger } = capturedLogger();
    const store = new MemoryStore([], { logger });
    store.applyDeclared(declared(users(['alice'])));
    const state = new StateFile(path, store, { logger, manifests: MANIFESTS, intervalMs: 50 });
    state.start();
    await store.start();
    const alice = { namespace: 'acme', name: 'alice' };
    const startedAt = performance.now();
    for (let i = 1; i <= 3000; i++) {
      await store.updateStatus('User', alice, { observedGeneration: i });
      if (i % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await state.close();
    // At most one write per interval while the burst lasted, plus the one on close.
    const writes = state.writes;
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThanOrEqual(Math.ceil((performance.now() - startedAt) / 50) + 1);
    expect(writes).toBeLessThan(100);
    expect(readStateFile(path, MANIFESTS)![0]!.object.status).toEqual({ observedGeneration: 3000 });
    // Nothing changed since: no write.
    await state.flush();
    expect(state.writes).toBe(writes);
  });

  it('a write that fails is reported with the file name and kept pending, not dropped', async () => {
    const { logger } = capturedLogger();
    writeFileSync(join(dir, 'file'), '');
    const store = new MemoryStore([], { logger });
    store.applyDeclared(declared(users(['alice'])));
    const state = new StateFile(join(dir, 'file', 'run.state.json'), store, { logger, manifests: MANIFESTS });
    state.start();
    await expect(state.close()).rejects.toThrow(/cannot write the state file .*file\/run\.state\.json/);
    await expect(state.flush()).rejects.toThrow(/cannot write the state file/);
  });

  it('no file yet is a first run', () => {
    expect(readStateFile(join(dir, 'missing.json'), MANIFESTS)).toBeUndefined();
  });

  const startAfresh = /Repair it, or move it away to start afresh/;
  it.each([
    ['not JSON', '{"format": "rollcall.dev/state/v1", "objects": [', /the state file .*bad\.json is not valid JSON/, startAfresh],
    ['another format', '{"objects": []}', /the state file .*bad\.json is not a Rollcall state file/, startAfresh],
    [
      'an object the schema refuses',
      JSON.stringify({
        format: STATE_FORMAT,
        manifests: MANIFESTS,
        objects: [
          { object: { apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', metadata: { name: 'alice', namespace: 'acme' }, spec: {} }, appliedAnnotations: {} },
        ],
      }),
      /the state file .*bad\.json holds objects Rollcall cannot use:\n {2}objects\[0\]: User acme\/alice: spec\.userName/,
      startAfresh,
    ],
    [
      'an unknown kind',
      JSON.stringify({ format: STATE_FORMAT, manifests: MANIFESTS, objects: [{ object: { kind: 'Person' } }] }),
      /objects\[0\]: unknown kind "Person"/,
      startAfresh,
    ],
    [
      'the state of another directory',
      JSON.stringify({ format: STATE_FORMAT, manifests: '/srv/other', objects: [] }),
      /the state file .*bad\.json belongs to the manifests in \/srv\/other, not \/srv\/manifests/,
      /give this directory its own with --state FILE/,
    ],
  ])('%s: refused with an error naming the file and what to do', (_, text, message, advice) => {
    writeFileSync(join(dir, 'bad.json'), text);
    expect(() => readStateFile(join(dir, 'bad.json'), MANIFESTS)).toThrow(message);
    expect(() => readStateFile(join(dir, 'bad.json'), MANIFESTS)).toThrow(advice);
  });

  it('a file that cannot be read is refused, naming it', () => {
    mkdirSync(join(dir, 'a-directory.json'));
    expect(() => readStateFile(join(dir, 'a-directory.json'), MANIFESTS)).toThrow(/cannot read the state file .*a-directory\.json: EISDIR/);
  });

  it('the default lives in .rollcall/, named after the manifest directory', () => {
    expect(defaultStatePath('examples/quickstart')).toBe(join('.rollcall', 'quickstart.state.json'));
    expect(defaultStatePath('examples/quickstart/')).toBe(join('.rollcall', 'quickstart.state.json'));
    expect(defaultStatePath('.')).toBe(join('.rollcall', `${resolve('.').split(/[\\/]/).at(-1)}.state.json`));
  });
});
