// The controllers end to end on the in-memory store and the embedded sqlite system: joiner, mover,
// leaver, temporary access, the deletion guard, orphans and deletion with the finalizer.
// Manifests are edited on disk, as a person would; the clock is injected.
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createSqliteConnector } from '../../../src/connectors/sqlite/index.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { Metrics } from '../../../src/process/metrics.ts';
import type { ConnectedSystem } from '../../../src/api/index.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { accessBinding, accessRole, sqliteSystem, user as userManifest, writeManifests, type Manifest, type SpecOf } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const T0 = new Date('2026-11-26T09:00:00Z');

function person(name: string, department: string, spec: Partial<SpecOf<'User'>> = {}): Manifest {
  return userManifest({ name, labels: { department } }, { givenName: name, familyName: 'Test', ...spec });
}

describe('controllers on the in-memory store with the sqlite system', () => {
  let dir: string;
  let db: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const metrics = new Metrics({ defaultMetrics: false, systemLabels: true });
  const clock = new TestClock(T0);
  const users: Record<string, Manifest> = {};
  let guardAnnotation = '';

  const system = () =>
    sqliteSystem({ name: 'directory', annotations: guardAnnotation ? { 'rollcall.dev/approve-deprovision': guardAnnotation } : undefined }, db, {
      deprovision: { policy: 'disable' },
      deletionGuard: { maxCount: 2 },
      orphans: 'report',
    });
  const roles = [
    accessRole('employee', { directory: ['all-staff'] }),
    accessRole('engineer', { directory: ['engineering'] }, { includes: ['employee'] }),
    accessRole('sales', { directory: ['sales'] }, { includes: ['employee'] }),
    accessRole('prod-admin', { directory: ['prod-admins'] }),
  ];
  let temporary: Manifest[] = [];
  const bindings = () => [
    accessBinding('engineering', { role: 'engineer', userSelector: { matchLabels: { department: 'engineering' } } }),
    accessBinding('sales', { userSelector: { matchLabels: { department: 'sales' } } }),
    ...temporary,
  ];

  async function write(): Promise<void> {
    writeManifests(dir, 'system.yaml', [system()]);
    writeManifests(dir, 'roles.yaml', roles);
    writeManifests(dir, 'bindings.yaml', bindings());
    writeManifests(dir, 'users.yaml', Object.values(users));
  }

  async function converge(): Promise<void> {
    await write();
    directory.reload();
    await manager.idle();
  }

  const account = (name: string) => describeDirectory(db).find((row) => row.userName === name);
  const version = (name: string) => {
    const handle = new DatabaseSync(db);
    try {
      return (handle.prepare('SELECT version FROM accounts WHERE user_name = ?').get(name) as { version: number } | undefined)?.version;
    } finally {
      handle.close();
    }
  };
  const user = (name: string) => store.get('User', { namespace: 'acme', name });
  const csys = () => store.get('ConnectedSystem', { namespace: 'acme', name: 'directory' }) as ConnectedSystem;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-lifecycle-'));
    db = join(dir, 'state', 'directory.db');
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) users[name] = person(name, 'engineering');
    users.carol = person('carol', 'sales');
    await write();
    ({ store, directory } = storeFromManifests(dir));
    manager = new Manager({ store, logger: pino({ level: 'silent' }), metrics, clock });
    await manager.start();
    await manager.idle();
  });

  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('joiner: every User gets an account with exactly its roles’ groups, and a Ready status', async () => {
    expect(account('alice')).toMatchObject({ state: 'present', groups: ['all-staff', 'engineering'], displayName: 'alice Test' });
    expect(account('carol')).toMatchObject({ state: 'present', groups: ['all-staff', 'sales'] });
    const status = user('alice')!.status!;
    expect(status.systems).toBe('1/1');
    expect(status.accounts).toEqual([expect.objectContaining({ system: 'directory', state: 'present', entitlements: ['all-staff', 'engineering'] })]);
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'InSync' });
    expect(user('alice')!.metadata.finalizers).toContain('rollcall.dev/deprovision');
    // The system's counts are those of its last listing, taken before the hires: the next resync shows them.
    expect(csys().status?.managed).toBe(0);
    await manager.requeueAll();
    await manager.idle();
    expect(csys().status?.managed).toBe(5);
    expect(store.get('AccessBinding', { namespace: 'acme', name: 'engineering' })!.status).toMatchObject({ subjects: 4 });
  });

  it('a resync with nothing changed writes nothing: no account, no status', async () => {
    const versions = ['alice', 'bob', 'carol'].map(version);
    const resourceVersions = ['alice', 'bob', 'carol'].map((n) => user(n)!.metadata.resourceVersion);
    const systemVersion = csys().metadata.resourceVersion;
    await manager.requeueAll();
    await manager.idle();
    expect(['alice', 'bob', 'carol'].map(version)).toEqual(versions);
    expect(['alice', 'bob', 'carol'].map((n) => user(n)!.metadata.resourceVersion)).toEqual(resourceVersions);
    expect(csys().metadata.resourceVersion).toBe(systemVersion);
  });

  it('mover: a department change adds and removes exactly what changed; others see no write', async () => {
    const aliceVersion = version('alice');
    users.carol = person('carol', 'engineering');
    await converge();
    expect(account('carol')).toMatchObject({ state: 'present', groups: ['all-staff', 'engineering'] });
    expect(version('alice')).toBe(aliceVersion);
  });

  it('temporary access: granted now, ended at validUntil, with accessEndsAt in status', async () => {
    temporary = [accessBinding('dave-on-call', { role: 'prod-admin', users: ['dave'], validUntil: '2026-11-26T17:00:00Z', reason: 'on call' })];
    await converge();
    expect(account('dave')?.groups).toContain('prod-admins');
    const binding = () => store.get('AccessBinding', { namespace: 'acme', name: 'dave-on-call' })!.status!;
    expect(binding()).toMatchObject({ subjects: 1, accessEndsAt: '2026-11-26T17:00:00.000Z' });
    expect(binding().conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'InForce' });
    clock.set(new Date('2026-11-26T16:59:59.999Z'));
    await manager.requeueAll();
    await manager.idle();
    expect(account('dave')?.groups).toContain('prod-admins');
    clock.set(new Date('2026-11-26T17:00:00Z'));
    await manager.requeueAll();
    await manager.idle();
    expect(account('dave')?.groups).toEqual(['all-staff', 'engineering']);
    expect(binding().conditions?.find((c) => c.type === 'Expired')).toMatchObject({ status: 'True' });
    expect(binding().conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'Expired' });
  });

  it('leaver: terminated means disabled everywhere, with no groups left', async () => {
    users.bob = person('bob', 'engineering', { state: 'terminated' });
    await converge();
    expect(account('bob')).toMatchObject({ state: 'disabled', groups: [] });
    const status = user('bob')!.status!;
    expect(status.accounts?.[0]).toMatchObject({ state: 'disabled', disabledAt: '2026-11-26T17:00:00.000Z' });
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Deprovisioned' });
    expect(status.deprovisionStartedAt).toBeDefined();
    expect(await metrics.registry.getSingleMetricAsString('rollcall_deprovision_latency_seconds')).toMatch(/rollcall_deprovision_latency_seconds_count 1\b/);
    await manager.requeueAll(); // accounts per state are counted at each resync
    await manager.idle();
    expect(await metrics.registry.getSingleMetricAsString('rollcall_accounts')).toMatch(/rollcall_accounts\{system="acme\/directory",state="disabled"\} 1\b/);
  });

  it('deletion guard: three leavers at once over a limit of two are all held until approved', async () => {
    for (const name of ['alice', 'carol', 'dave']) users[name] = person(name, 'engineering', { state: 'suspended' });
    await converge();
    await manager.idle();
    for (const name of ['alice', 'carol', 'dave']) expect(account(name)?.state, name).toBe('present');
    const tripped = csys().status?.conditions?.find((c) => c.type === 'DeletionGuardTripped');
    expect(tripped).toMatchObject({ status: 'True' });
    // Bob's leave a moment ago counts in the same pass (one resyncInterval): 3 pending + 1 recent.
    const count = tripped?.message.match(/revoke entitlements of (\d+) /)?.[1];
    expect(count).toBe('4');
    expect(user('alice')!.status!.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'DeletionGuardTripped' });

    guardAnnotation = count!;
    await converge();
    await manager.idle();
    for (const name of ['alice', 'carol', 'dave']) expect(account(name)?.state, name).toBe('disabled');
    expect(csys().status?.conditions?.find((c) => c.type === 'DeletionGuardTripped')).toMatchObject({ status: 'False' });
  });

  it('drift: a group added by hand is found at the next resync, counted, and reverted', async () => {
    const connector = await createSqliteConnector({
      system: 'acme/directory',
      namespace: 'acme',
      spec: csys().spec,
      credentials: {},
      logger: pino({ level: 'silent' }),
    });
    await connector.apply({ op: 'grant', userName: 'erin', entitlement: 'prod-admins' }, AbortSignal.timeout(5000));
    await connector.close();
    expect(account('erin')?.groups).toContain('prod-admins');
    await manager.requeueAll();
    await manager.idle();
    expect(csys().status?.drifted).toBe(1);
    expect(account('erin')?.groups).toEqual(['all-staff', 'engineering']);
    expect(await metrics.registry.getSingleMetricAsString('rollcall_drift_corrections_total')).toMatch(
      /rollcall_drift_corrections_total\{system="acme\/directory"\} 1/,
    );
  });

  it('drift: an attribute edited, a leaver re-enabled and an account deleted by hand are all reverted', async () => {
    // Re-disabling bob restores what Rollcall already did: the guard (still counting this pass) does not hold it.
    const byHand = await createSqliteConnector({
      system: 'acme/directory',
      namespace: 'acme',
      spec: csys().spec,
      credentials: {},
      logger: pino({ level: 'silent' }),
    });
    const signal = AbortSignal.timeout(5000);
    await byHand.apply({ op: 'update', userName: 'erin', attributes: { displayName: 'Someone Else' } }, signal);
    await byHand.apply({ op: 'enable', userName: 'bob' }, signal);
    expect(account('bob')?.state).toBe('present');
    await manager.requeueAll();
    await manager.idle();
    expect(csys().status?.drifted).toBe(1); // bob's state; an attribute is not part of the recorded status
    expect(account('erin')?.displayName).toBe('erin Test');
    expect(account('bob')).toMatchObject({ state: 'disabled', groups: [] });

    await byHand.apply({ op: 'delete', userName: 'erin' }, signal);
    await byHand.close();
    expect(account('erin')).toBeUndefined();
    await manager.requeueAll();
    await manager.idle();
    expect(account('erin')).toMatchObject({ state: 'present', groups: ['all-staff', 'engineering'] });
  });

  it('orphans: a managed account no User declares is reported, never touched', async () => {
    const connector = await createSqliteConnector({
      system: 'acme/directory',
      namespace: 'acme',
      spec: csys().spec,
      credentials: {},
      logger: pino({ level: 'silent' }),
    });
    await connector.apply(
      { op: 'create', account: { system: 'directory', userName: 'zed', state: 'present', attributes: {}, entitlements: [] } },
      AbortSignal.timeout(5000),
    );
    await connector.close();
    await manager.requeueAll();
    await manager.idle();
    expect(csys().status?.orphaned).toBe(1);
    expect(account('zed')?.state).toBe('present');
  });

  it('deleting a User deprovisions it first, then lets it go', async () => {
    clock.advance(10 * 60_000); // the guard's pass (resyncInterval) is over
    users.alice = person('alice', 'engineering');
    delete users.erin;
    guardAnnotation = '';
    await converge();
    await manager.idle();
    expect(user('erin')).toBeUndefined();
    expect(account('erin')).toMatchObject({ state: 'disabled', groups: [] });
    expect(account('alice')).toMatchObject({ state: 'present', groups: ['all-staff', 'engineering'] });
  });
});
