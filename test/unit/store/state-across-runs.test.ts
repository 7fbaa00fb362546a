// `rollcall run --manifests DIR` as a series of runs, each one as the CLI composes it: the store
// restored from the state file, the manifests applied over it, the controllers converging, the
// state written back. What happened between two runs (a file edited, time passing) must be acted
// on as if Rollcall had been running all along. Two embedded sqlite systems; the clock is injected.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectedSystem, User } from '../../../src/api/index.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { readStateFile, StateFile } from '../../../src/store/state-file.ts';

const T0 = new Date('2026-11-26T09:00:00Z');
const MINUTE = 60_000;
const logger = pino({ level: 'silent' });

describe('standalone runs keep their state', () => {
  let root = '';
  let manifests = '';
  let statePath = '';
  const db = (system: string) => join(root, `${system}.db`);
  const account = (system: string, name: string) => describeDirectory(db(system)).find((row) => row.userName === name);

  /** Users by name → extra spec; bindings by role → the users they list. */
  function write(users: Record<string, string>, bindings: Record<string, string[]>): void {
    const documents = [
      `kind: ConnectedSystem
metadata: {name: directory, namespace: acme}
spec: {type: sqlite, sqlite: {path: ${JSON.stringify(db('directory'))}}, deprovision: {policy: delete}, deletionGuard: {maxCount: 10}, orphans: report}`,
      `kind: ConnectedSystem
metadata: {name: archive, namespace: acme}
spec: {type: sqlite, sqlite: {path: ${JSON.stringify(db('archive'))}}, deprovision: {policy: disableThenDelete, retention: 1h}, deletionGuard: {maxCount: 10}, orphans: report}`,
      `kind: AccessRole
metadata: {name: staff, namespace: acme}
spec: {grants: [{system: directory, entitlements: [all-staff]}]}`,
      `kind: AccessRole
metadata: {name: archivist, namespace: acme}
spec: {grants: [{system: archive, entitlements: [readers]}]}`,
      ...Object.entries(bindings).map(
        ([role, names]) => `kind: AccessBinding
metadata: {name: ${role}, namespace: acme}
spec: {role: ${role}, users: [${names.join(', ')}]}`,
      ),
      ...Object.entries(users).map(
        ([name, extra]) => `kind: User
metadata: {name: ${name}, namespace: acme}
spec: {userName: ${name}${extra}}`,
      ),
    ];
    writeFileSync(join(manifests, 'all.yaml'), documents.map((d) => `apiVersion: rollcall.dev/v1alpha1\n${d}\n`).join('---\n'));
  }

  /** One `rollcall run --manifests DIR --once` at `at`; returns its store, stopped, to look at. */
  async function run(at: Date, state = statePath): Promise<MemoryStore> {
    const clock = new TestClock(at);
    const store = MemoryStore.restore(readStateFile(state, manifests) ?? [], { logger, clock });
    new ManifestDirectory(manifests, store, { watch: false, logger }).load();
    const stateFile = new StateFile(state, store, { logger, manifests });
    stateFile.start();
    const manager = new Manager({ store, logger, clock });
    await manager.start();
    await manager.idle();
    await manager.stop();
    await stateFile.close();
    return store;
  }

  const user = (store: MemoryStore, name: string) => store.get('User', { namespace: 'acme', name }) as User | undefined;
  const system = (store: MemoryStore, name: string) => store.get('ConnectedSystem', { namespace: 'acme', name }) as ConnectedSystem;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rollcall-runs-'));
    manifests = join(root, 'manifests');
    statePath = join(root, '.rollcall', 'manifests.state.json');
    mkdirSync(manifests);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('a User removed from the files while Rollcall was stopped is deprovisioned as a leaver, not found as an orphan', async () => {
    write({ alice: '', bob: '' }, { staff: ['alice', 'bob'] });
    const first = await run(T0);
    expect(account('directory', 'bob')).toMatchObject({ state: 'present', managed: true });
    expect(user(first, 'bob')!.metadata.finalizers).toContain('rollcall.dev/deprovision');

    write({ alice: '' }, { staff: ['alice'] });
    // Without the state the next run would not know bob: his account is only an orphan then.
    const forgetful = await run(new Date(T0.getTime() + MINUTE), join(root, 'blank.state.json'));
    expect(system(forgetful, 'directory').status?.orphaned).toBe(1);
    expect(account('directory', 'bob')?.state).toBe('present');

    const second = await run(new Date(T0.getTime() + MINUTE));
    expect(account('directory', 'bob')).toBeUndefined(); // the system's policy: delete
    expect(account('directory', 'alice')?.state).toBe('present');
    expect(system(second, 'directory').status?.orphaned ?? 0).toBe(0);
    // The finalizer was released, so bob is gone from the store and from the state.
    expect(user(second, 'bob')).toBeUndefined();
    expect(readStateFile(statePath, manifests)!.map((s) => s.object.metadata.name)).not.toContain('bob');
    // What the store gave alice in the first run is hers in the next.
    expect(user(second, 'alice')!.metadata.uid).toBe(user(first, 'alice')!.metadata.uid);
    expect(user(second, 'alice')!.metadata.creationTimestamp).toBe(user(first, 'alice')!.metadata.creationTimestamp);
  });

  it('retention completes across runs: disabled in one run, deleted by a later one once the retention has passed', async () => {
    write({ carol: '' }, { staff: ['carol'], archivist: ['carol'] });
    await run(T0);
    expect(account('archive', 'carol')?.state).toBe('present');

    write({ carol: ', state: terminated' }, { staff: ['carol'], archivist: ['carol'] });
    const disabledAt = new Date(T0.getTime() + MINUTE);
    const second = await run(disabledAt);
    expect(account('archive', 'carol')?.state).toBe('disabled');
    expect(account('directory', 'carol')).toBeUndefined(); // policy delete
    const status = user(second, 'carol')!.status!;
    expect(status.deprovisionStartedAt).toBe(disabledAt.toISOString());
    expect(status.accounts?.find((a) => a.system === 'archive')).toMatchObject({ state: 'disabled', disabledAt: expect.any(String) });

    // A restart within the retention keeps counting from the recorded disable, not from the restart.
    await run(new Date(disabledAt.getTime() + 50 * MINUTE));
    expect(account('archive', 'carol')?.state).toBe('disabled');
    await run(new Date(disabledAt.getTime() + 61 * MINUTE));
    expect(account('archive', 'carol')).toBeUndefined();
  });

  it('a User who lost a system while Rollcall was stopped loses the account there', async () => {
    write({ dave: '' }, { staff: ['dave'], archivist: ['dave'] });
    await run(T0);
    expect(account('archive', 'dave')?.state).toBe('present');
    expect(account('directory', 'dave')?.state).toBe('present');

    write({ dave: '' }, { staff: ['dave'] });
    const second = await run(new Date(T0.getTime() + MINUTE));
    // disableThenDelete: disabled now, deleted after the retention.
    expect(account('archive', 'dave')).toMatchObject({ state: 'disabled', groups: [] });
    expect(account('directory', 'dave')?.state).toBe('present');
    expect(system(second, 'archive').status?.orphaned ?? 0).toBe(0);
    await run(new Date(T0.getTime() + 2 * 60 * MINUTE));
    expect(account('archive', 'dave')).toBeUndefined();
  });

  it('ConnectedSystem status is kept like every other status', async () => {
    write({ erin: '' }, { staff: ['erin'] });
    const first = await run(T0);
    const status = system(first, 'directory').status!;
    expect(status.conditions?.find((c) => c.type === 'Connected')?.status).toBe('True');
    const restored = MemoryStore.restore(readStateFile(statePath, manifests)!, { logger });
    expect(system(restored, 'directory').status).toEqual(status);
    expect(system(restored, 'directory').metadata.finalizers).toEqual(system(first, 'directory').metadata.finalizers);
  });
});
