// An HR feed in a ConfigMap drives the whole lifecycle on the in-memory store and the embedded
// sqlite system: hires are created and provisioned through label-selected bindings, a transfer
// moves access, a leaver is terminated, a rehire comes back as the same User, a truncated feed
// trips the change guard and terminates nobody until a person approves the count shown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentitySource } from '../../../src/api/index.ts';
import { TestClock } from '../../../src/clock/clock.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { hrFeed, hrFeedWorld } from '../../helpers/hr-feed.ts';
import { user as userManifest, writeManifests, type Manifest } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const T0 = new Date('2026-11-30T09:00:00Z');
const HEADER = 'employee_id,login,first,last,email,dept,status,end_date';
const person = (id: string, login: string, dept: string, status = 'active', end = '') =>
  `${id},${login},${login[0]!.toUpperCase()}${login.slice(1)},Doe,${login}@acme.example,${dept},${status},${end}`;

describe('an IdentitySource drives joiners, movers and leavers', () => {
  let dir: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const clock = new TestClock(T0);
  let rows: string[] = [];
  let approve = '';

  const manifests = (): Manifest[] => [
    ...hrFeedWorld({
      namespace: 'acme',
      db: join(dir, 'directory.db'),
      source: { interval: '1h', terminationDate: { field: 'end_date', format: 'yyyy-mm-dd', timeZone: 'Europe/Berlin' } },
      sourceAnnotations: approve ? { 'rollcall.dev/approve-changes': approve } : undefined,
    }),
    hrFeed('acme', HEADER, rows),
  ];

  async function sync(): Promise<void> {
    writeManifests(dir, 'all.yaml', manifests());
    directory.reload();
    await manager.requeueAll();
    await manager.idle();
  }

  const user = (name: string) => store.get('User', { namespace: 'acme', name });
  const account = (userName: string) => describeDirectory(join(dir, 'directory.db')).find((row) => row.userName === userName);
  const source = () => store.get('IdentitySource', { namespace: 'acme', name: 'hr' }) as IdentitySource;
  const condition = (type: string) => source().status?.conditions?.find((c) => c.type === type);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-source-'));
    rows = [
      person('E1', 'alice', 'Sales'),
      person('E2', 'bob', 'Sales'),
      person('E3', 'carol', 'Finance'),
      ...['dan', 'eve', 'fay', 'gus', 'hal'].map((n, i) => person(`E${i + 4}`, n, 'Sales')),
    ];
    writeManifests(dir, 'all.yaml', manifests());
    ({ store, directory } = storeFromManifests(dir, { logger: pino({ level: 'silent' }), clock }));
    manager = new Manager({ store, logger: pino({ level: 'silent' }), clock });
    await manager.start();
    await manager.idle();
  });

  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hires: Users are created, labelled and owned by the source, and provisioned through the bindings', () => {
    const alice = user('e1')!;
    expect(alice.spec).toMatchObject({ userName: 'alice', givenName: 'Alice', email: 'alice@acme.example', state: 'active' });
    expect(alice.metadata.labels).toEqual({ department: 'sales', 'rollcall.dev/source': 'hr', 'app.kubernetes.io/managed-by': 'rollcall' });
    expect(alice.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'IdentitySource', name: 'hr', uid: source().metadata.uid, controller: true }),
    ]);
    expect(account('alice')).toMatchObject({ state: 'present', groups: ['sales'] });
    expect(account('carol')).toMatchObject({ state: 'present', groups: ['finance'] });
    expect(source().status).toMatchObject({ users: 8, created: 8, updated: 0, terminated: 0, rejected: 0, lastSyncTime: '2026-11-30T09:00:00Z' });
    expect(condition('Ready')).toMatchObject({ status: 'True', reason: 'Synced' });
    expect(condition('ChangeGuardTripped')).toMatchObject({ status: 'False' });
  });

  it('a transfer moves the label and with it the access; a future end date becomes validUntil to the second', async () => {
    rows[1] = person('E2', 'bob', 'Finance');
    rows[3] = person('E4', 'dan', 'Sales', 'active', '2026-12-31');
    await sync();
    expect(user('e2')!.metadata.labels?.department).toBe('finance');
    expect(account('bob')).toMatchObject({ state: 'present', groups: ['finance'] });
    expect(user('e4')!.spec.validUntil).toBe('2026-12-31T23:00:00Z');
    expect(source().status).toMatchObject({ created: 0, updated: 2, unchanged: 6 });
  });

  it('a leaver marked terminated is terminated and loses the account; bad records are rejected, naming the field, and change nothing', async () => {
    rows[2] = person('E3', 'carol', 'Finance', 'terminated');
    rows.push('E99,broken', person('E1', 'alice2', 'Sales'), 'E50,zed,Z,Doe,not-an-email,Sales,active,');
    await sync();
    expect(user('e3')!.spec.state).toBe('terminated');
    expect(account('carol')).toMatchObject({ state: 'disabled' });
    // The duplicate E1 is rejected, so alice is left as she was, not taken for a leaver.
    expect(user('e1')!.spec.state).toBe('active');
    expect(user('e50')).toBeUndefined();
    expect(source().status).toMatchObject({ terminated: 1, rejected: 4 });
    expect(source().status!.rejectedRecords).toEqual(
      expect.arrayContaining([
        { record: 'line 10', reason: 'malformed row: 2 fields where the header has 8' },
        { record: 'E50 (line 12)', field: 'email', reason: expect.stringContaining('email') },
        expect.objectContaining({ record: 'E1 (line 2)', field: 'employee_id', reason: 'duplicate id: also at line 11' }),
      ]),
    );
    rows.splice(8);
    await sync();
    expect(source().status).toMatchObject({ rejected: 0 });
  });

  it('a rehire reactivates the same User and its account', async () => {
    rows[2] = person('E3', 'carol', 'Finance');
    await sync();
    expect(user('e3')!.spec.state).toBe('active');
    expect(account('carol')).toMatchObject({ state: 'present', groups: ['finance'] });
  });

  it('a truncated feed trips the change guard and terminates nobody until the count shown is approved', async () => {
    const full = [...rows];
    rows = rows.slice(0, 3);
    await sync();
    expect(condition('ChangeGuardTripped')).toMatchObject({ status: 'True', reason: 'TooManyTerminations' });
    expect(condition('ChangeGuardTripped')!.message).toContain('would terminate or suspend 5 of 8 Users (limit 2)');
    expect(source().status).toMatchObject({ pendingChanges: 5, terminated: 0 });
    expect(store.list('User', 'acme').filter((u) => u.spec.state !== 'active')).toEqual([]);
    expect(account('hal')).toMatchObject({ state: 'present' });

    approve = '4';
    await sync();
    expect(store.list('User', 'acme').filter((u) => u.spec.state !== 'active')).toEqual([]);

    approve = '5';
    await sync();
    expect(
      store
        .list('User', 'acme')
        .filter((u) => u.spec.state === 'terminated')
        .map((u) => u.metadata.name)
        .sort(),
    ).toEqual(['e4', 'e5', 'e6', 'e7', 'e8']);
    expect(account('hal')).toMatchObject({ state: 'disabled' });
    expect(condition('ChangeGuardTripped')).toMatchObject({ status: 'False' });
    rows = full;
    approve = '';
    await sync();
    expect(store.list('User', 'acme').filter((u) => u.spec.state !== 'active')).toEqual([]);
  });

  it('a User the source did not create is never changed by it', async () => {
    writeManifests(dir, 'all.yaml', manifests());
    rows.push(person('E60', 'mallory', 'Sales'));
    const handMade = userManifest('e60', { userName: 'mallory', department: 'Legal' });
    writeManifests(dir, 'all.yaml', [...manifests(), handMade]);
    directory.reload();
    await manager.requeueAll();
    await manager.idle();
    expect(user('e60')!.spec.department).toBe('Legal');
    expect(user('e60')!.metadata.labels ?? {}).toEqual({});
    expect(condition('Conflict')).toMatchObject({ status: 'True', message: 'User e60 exists and was not created by a source' });
  });
});
