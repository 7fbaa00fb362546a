// ManifestDirectory in partial mode (`rollcall run`): a bad object costs only itself. The valid
// objects are applied, each invalid document is reported by file, document and line, and an object
// that was declared before keeps its previous version: found by kind and name, or, for a file that
// is no longer readable as a whole, by the file it came from. Never taken as deleted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';

const user = (name: string, spec: Record<string, string> = {}) =>
  `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: ${name}}\nspec: ${JSON.stringify({ userName: name, ...spec })}\n`;

describe('ManifestDirectory, partial', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-partial-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function open() {
    const { logger, records } = capturedLogger();
    const store = new MemoryStore([], { logger });
    return { store, records, directory: new ManifestDirectory(dir, store, { watch: false, logger, partial: true }) };
  }
  const names = (store: MemoryStore) =>
    store
      .list('User')
      .filter((u) => u.metadata.deletionTimestamp === undefined)
      .map((u) => u.metadata.name)
      .sort();

  it('applies the valid objects and reports each invalid one by file, document and line', () => {
    writeFileSync(join(dir, 'a.yaml'), user('alice'));
    writeFileSync(join(dir, 'b.yaml'), `${user('bob')}---\n${user('mallory', { state: 'gone' })}`);
    const { store, directory, records } = open();
    directory.load();
    expect(names(store)).toEqual(['alice', 'bob']);
    expect(directory.problems).toEqual([
      expect.stringMatching(/b\.yaml: User "mallory" \(document 2, line 9\): spec\.state: must be one of active, suspended, terminated$/),
    ]);
    expect(records.map((r) => r.msg)).toContainEqual(expect.stringMatching(/^invalid manifest, not applied: .*b\.yaml: User "mallory"/));
  });

  it('an object valid before and invalid now keeps its previous version, and says so', () => {
    writeFileSync(join(dir, 'a.yaml'), user('alice', { department: 'eng' }));
    writeFileSync(join(dir, 'b.yaml'), user('bob'));
    const { store, directory, records } = open();
    directory.load();
    writeFileSync(join(dir, 'a.yaml'), user('alice', { department: 'sales', email: 'nope' }));
    writeFileSync(join(dir, 'b.yaml'), user('bob', { department: 'ops' }));
    directory.reload();
    expect(names(store)).toEqual(['alice', 'bob']);
    expect(store.get('User', { namespace: 'default', name: 'alice' })!.spec.department).toBe('eng');
    expect(store.get('User', { namespace: 'default', name: 'bob' })!.spec.department).toBe('ops');
    expect(directory.kept).toEqual(['User default/alice']);
    expect(records.map((r) => r.msg)).toContain('User default/alice keeps its previous version: its manifest is invalid (not deleted until it is removed)');
    // Fixed: applied; removed: deleted as always.
    writeFileSync(join(dir, 'a.yaml'), user('alice', { department: 'sales' }));
    directory.reload();
    expect(store.get('User', { namespace: 'default', name: 'alice' })!.spec.department).toBe('sales');
    expect(directory.problems).toEqual([]);
    rmSync(join(dir, 'a.yaml'));
    directory.reload();
    expect(names(store)).toEqual(['bob']);
  });

  it('a file that is not YAML is one error; the objects it held keep their previous versions', () => {
    writeFileSync(join(dir, 'a.yaml'), user('alice'));
    writeFileSync(join(dir, 'team.yaml'), `${user('bob')}---\n${user('carol')}`);
    const { store, directory } = open();
    directory.load();
    writeFileSync(join(dir, 'team.yaml'), '{{{ not yaml\n');
    writeFileSync(join(dir, 'a.yaml'), user('alice', { department: 'eng' }));
    directory.reload();
    expect(directory.problems).toHaveLength(1);
    expect(directory.problems[0]).toMatch(/team\.yaml: .*invalid YAML/);
    expect(names(store)).toEqual(['alice', 'bob', 'carol']);
    expect(directory.kept).toEqual(['User default/bob', 'User default/carol']);
    expect(store.get('User', { namespace: 'default', name: 'alice' })!.spec.department).toBe('eng');
  });

  it('a change a cluster would refuse (an immutable field) costs only its object', () => {
    writeFileSync(join(dir, 'a.yaml'), user('alice'));
    writeFileSync(join(dir, 'b.yaml'), user('bob'));
    const { store, directory } = open();
    directory.load();
    writeFileSync(join(dir, 'a.yaml'), user('alice').replace('"userName":"alice"', '"userName":"alice2"'));
    writeFileSync(join(dir, 'b.yaml'), user('bob', { department: 'ops' }));
    directory.reload();
    expect(store.get('User', { namespace: 'default', name: 'alice' })!.spec.userName).toBe('alice');
    expect(store.get('User', { namespace: 'default', name: 'bob' })!.spec.department).toBe('ops');
    expect(directory.problems).toEqual([expect.stringContaining('User "alice": spec.userName: userName is immutable')]);
  });
});
