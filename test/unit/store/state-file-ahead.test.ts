// Write-ahead: StateFile.ahead() (what a connector write waits for in standalone mode) puts every
// claim (an object added, a finalizer added or removed) on disk before it resolves, shares one
// write among many, and does not write for a status alone. With claimDeclaredUsers, a batch of
// declared joiners is claimed at once: one write covers a thousand.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseManifests } from '../../../src/manifests/load.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { StateFile } from '../../../src/store/state-file.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';

const FINALIZER = 'rollcall.dev/deprovision';

function users(names: string[]) {
  const { objects, errors } = parseManifests(
    names.map((name) => `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: ${name}, namespace: acme}\nspec: {userName: ${name}}\n`).join('---\n'),
    'users.yaml',
  );
  expect(errors).toEqual([]);
  return objects;
}

describe('StateFile.ahead', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-ahead-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function open(options: { claim?: boolean } = {}) {
    const { logger } = capturedLogger();
    const store = new MemoryStore([], { logger, claimDeclaredUsers: options.claim ? FINALIZER : undefined });
    const path = join(dir, 'run.state.json');
    // An interval far beyond the test: every write seen here is one ahead() asked for.
    const state = new StateFile(path, store, { logger, manifests: dir, intervalMs: 3_600_000 });
    await store.start();
    state.start();
    return { store, state, path };
  }

  it('a finalizer is on disk when ahead() resolves; a status alone costs no write', async () => {
    const { store, state, path } = await open();
    store.applyDeclared(users(['alice']));
    await state.ahead();
    expect(state.writes).toBe(1);
    await store.setFinalizer('User', { namespace: 'acme', name: 'alice' }, FINALIZER, true);
    await state.ahead();
    expect(state.writes).toBe(2);
    expect(readFileSync(path, 'utf8')).toContain(`"finalizers":["${FINALIZER}"]`);
    await store.updateStatus('User', { namespace: 'acme', name: 'alice' }, { observedGeneration: 1, systems: '0/0' });
    await state.ahead();
    expect(state.writes).toBe(2);
    await state.close();
  });

  it('many syncs asking at once share one write', async () => {
    const { store, state } = await open();
    store.applyDeclared(users(['alice', 'bob', 'carol']));
    await Promise.all(['alice', 'bob', 'carol'].map((name) => store.setFinalizer('User', { namespace: 'acme', name }, FINALIZER, true)));
    await Promise.all(Array.from({ length: 50 }, () => state.ahead()));
    expect(state.writes).toBe(1);
    await state.close();
  });

  it('claimed when declared: 1,000 joiners are durable after one write', async () => {
    const { store, state, path } = await open({ claim: true });
    store.applyDeclared(users(Array.from({ length: 1000 }, (_, i) => `joiner${i}`)));
    await state.ahead();
    expect(state.writes).toBe(1);
    const text = readFileSync(path, 'utf8');
    expect(text.split(`"finalizers":["${FINALIZER}"]`).length - 1).toBe(1000);
    await state.close();
  });
});
