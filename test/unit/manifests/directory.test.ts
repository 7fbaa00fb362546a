// The manifest directory feeding the in-memory store: a first reading that refuses a bad directory
// outright, then file edits followed like `kubectl apply` after each one, and a bad edit that
// changes nothing.
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';

const FINALIZER = 'rollcall.dev/deprovision';
const alice = { namespace: 'default', name: 'alice' };
const bob = { namespace: 'default', name: 'bob' };

function userYaml(name: string, spec: Record<string, string>, labels: Record<string, string> = {}): string {
  const metadata = { name, ...(Object.keys(labels).length && { labels }) };
  return `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: ${JSON.stringify(metadata)}\nspec: ${JSON.stringify({ userName: name, ...spec })}\n`;
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ManifestDirectory', () => {
  let dir = '';
  let store: MemoryStore;
  let directory: ManifestDirectory | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-manifests-'));
  });
  afterEach(async () => {
    directory?.stop();
    directory = undefined;
    await store?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function open(options: { watch: boolean; logger?: ReturnType<typeof capturedLogger>['logger'] }): ManifestDirectory {
    const logger = options.logger ?? capturedLogger().logger;
    store = new MemoryStore([], { logger });
    directory = new ManifestDirectory(dir, store, { watch: options.watch, logger, debounceMs: 30 });
    return directory;
  }

  it('the first reading applies every object, Secrets included', () => {
    writeFileSync(join(dir, 'users.yaml'), userYaml('alice', { department: 'eng' }));
    writeFileSync(join(dir, 'secret.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata: { name: creds }\nstringData: { password: s3cret }\n');
    open({ watch: false }).load();
    expect(store.get('User', alice)!.spec).toMatchObject({ userName: 'alice', department: 'eng' });
    return expect(store.getSecret({ namespace: 'default', name: 'creds' })).resolves.toEqual({ password: 's3cret' });
  });

  it('the first reading refuses an invalid directory, listing every problem, and applies nothing', () => {
    writeFileSync(join(dir, 'a.yaml'), userYaml('alice', { state: 'gone' }));
    writeFileSync(join(dir, 'b.yaml'), userYaml('bob', { email: 'nope' }));
    writeFileSync(join(dir, 'c.yaml'), userYaml('carol', {}));
    expect(() => open({ watch: false }).load()).toThrow(
      /a\.yaml: User "alice" \(document 1, line 4\): spec\.state: must be one of active, suspended, terminated\n.*b\.yaml: User "bob" \(document 1, line 4\): spec\.email: must be an e-mail address/,
    );
    expect(store.list('User')).toEqual([]);
  });

  it('follows file changes once started: add, spec update, label, deletion held by a finalizer', async () => {
    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { department: 'eng' }));
    writeFileSync(join(dir, 'bob.yaml'), userYaml('bob', {}));
    const manifests = open({ watch: true });
    manifests.load();
    await store.start();
    manifests.start();
    await store.setFinalizer('User', bob, FINALIZER, true);

    writeFileSync(join(dir, 'carol.yaml'), userYaml('carol', {}));
    await until(() => store.get('User', { namespace: 'default', name: 'carol' }) !== undefined);

    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { department: 'sales' }, { team: 'emea' }));
    await until(() => store.get('User', alice)!.spec.department === 'sales');
    expect(store.get('User', alice)!.metadata).toMatchObject({ generation: 2, labels: { team: 'emea' } });

    unlinkSync(join(dir, 'bob.yaml'));
    await until(() => store.get('User', bob)?.metadata.deletionTimestamp !== undefined);
    await store.setFinalizer('User', bob, FINALIZER, false);
    expect(store.get('User', bob)).toBeUndefined();
  });

  it('after stop, file changes are no longer followed', async () => {
    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', {}));
    const manifests = open({ watch: true });
    manifests.load();
    manifests.start();
    manifests.stop();
    writeFileSync(join(dir, 'bob.yaml'), userYaml('bob', {}));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(store.get('User', bob)).toBeUndefined();
  });

  it('an invalid change is logged and the previous state kept; fixing it applies the change', async () => {
    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { department: 'eng' }));
    const { logger, records: lines } = capturedLogger();
    const manifests = open({ watch: true, logger });
    manifests.load();
    await store.start();
    manifests.start();

    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { department: 'sales', state: 'retired' }));
    await until(() => lines.some((line) => String(line.msg).includes('keeping the previous state')));
    expect(lines.map((line) => line.msg)).toContainEqual(
      expect.stringMatching(/alice\.yaml: User "alice" \(document 1, line 4\): spec\.state: must be one of active, suspended, terminated$/),
    );
    expect(store.get('User', alice)!.spec.department).toBe('eng');

    // Immutable fields are refused on change, like the CRD's transition rule.
    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { userName: 'alice2' }));
    await until(() => lines.some((line) => String(line.msg).includes('spec.userName: userName is immutable')));
    expect(store.get('User', alice)!.spec.userName).toBe('alice');

    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', { department: 'sales' }));
    await until(() => store.get('User', alice)!.spec.department === 'sales');
  });

  it('reload() reads the directory at once, without a watcher', () => {
    writeFileSync(join(dir, 'alice.yaml'), userYaml('alice', {}));
    const manifests = open({ watch: false });
    manifests.load();
    writeFileSync(join(dir, 'bob.yaml'), userYaml('bob', {}));
    manifests.reload();
    expect(store.get('User', bob)).toBeDefined();
  });
});
