// An access review on the in-memory store with the sqlite system: status lists the access under
// review and the decisions; a revoke removes the access; the default revokes at the due date; the
// finished review stays with its record.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { TestClock } from '../../../src/clock/clock.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import type { AnyResource, EventType } from '../../../src/store/store.ts';
import type { KindName } from '../../../src/api/index.ts';
import { Metrics } from '../../../src/process/metrics.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { accessBinding, accessReview, accessRole, sqliteSystem, user, writeManifests, type SpecOf } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const T0 = new Date('2026-11-30T09:00:00Z');
const KEY = { namespace: 'acme', name: 'q4' };

describe('access review campaign', () => {
  let dir = '';
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const clock = new TestClock(T0);
  const events: string[] = [];
  const db = () => join(dir, 'directory.db');
  const groups = (name: string) => describeDirectory(db()).find((row) => row.userName === name)?.groups;
  const write = (decisions?: SpecOf<'AccessReview'>['decisions']) =>
    writeManifests(dir, 'all.yaml', [
      sqliteSystem('directory', db(), { deprovision: { policy: 'disable' } }),
      accessRole('staff', { directory: ['all-staff'] }),
      accessRole('admin', { directory: ['admins'] }),
      accessBinding('staff', { users: ['ann', 'ben', 'cid'] }),
      accessBinding('admins', { role: 'admin', users: ['ann', 'ben', 'cid'], requestedBy: 'rita' }),
      ...['ann', 'ben', 'cid'].map((name) => user(name)),
      accessReview('q4', {
        scope: { roles: ['admin'] },
        reviewers: ['rita'],
        dueDate: '2026-12-01T00:00:00Z',
        defaultDecision: 'revoke',
        schedule: '90d',
        decisions,
      }),
    ]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-review-'));
    write();
    ({ store, directory } = storeFromManifests(dir, { logger: pino({ level: 'silent' }), clock }));
    store.recordEvent = async (_kind: KindName, _object: AnyResource, _type: EventType, reason: string, message: string) =>
      void events.push(`${reason}: ${message}`);
    manager = new Manager({ store, logger: pino({ level: 'silent' }), metrics: new Metrics({ defaultMetrics: false }), clock });
    await manager.start();
    await manager.idle();
  });
  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('while open, status lists each User × binding in scope, undecided', () => {
    const status = store.get('AccessReview', KEY)!.status!;
    expect(status.phase).toBe('Open');
    expect(status.items).toEqual([
      { user: 'ann', binding: 'admins', role: 'admin', how: 'name', grantedAt: expect.any(String), grantedBy: 'rita' },
      { user: 'ben', binding: 'admins', role: 'admin', how: 'name', grantedAt: expect.any(String), grantedBy: 'rita' },
      { user: 'cid', binding: 'admins', role: 'admin', how: 'name', grantedAt: expect.any(String), grantedBy: 'rita' },
    ]);
    expect(groups('ann')).toEqual(['admins', 'all-staff']);
  });

  it('a keep and a revoke: recorded in status with ReviewDecision, the revoke removes the access', async () => {
    write([
      { user: 'ann', binding: 'admins', decision: 'keep', decidedBy: 'rita' },
      { user: 'ben', binding: 'admins', decision: 'revoke', decidedBy: 'rita' },
    ]);
    directory.reload();
    await manager.idle();
    const items = store.get('AccessReview', KEY)!.status!.items!;
    expect(items.map((i) => [i.user, i.decision, i.decidedBy])).toEqual([
      ['ann', 'keep', 'rita'],
      ['ben', 'revoke', 'rita'],
      ['cid', undefined, undefined],
    ]);
    expect(events.filter((e) => e.startsWith('ReviewDecision'))).toEqual([
      'ReviewDecision: rita decided keep for ann (binding admins, role admin)',
      'ReviewDecision: rita decided revoke for ben (binding admins, role admin)',
    ]);
    expect(groups('ann')).toEqual(['admins', 'all-staff']);
    expect(groups('ben')).toEqual(['all-staff']);
  });

  it('at the due date the review completes, the default revokes what nobody decided, and the review stays as the record', async () => {
    expect(groups('cid')).toEqual(['admins', 'all-staff']);
    clock.set(new Date('2026-12-01T00:00:01Z'));
    await manager.requeueAll();
    await manager.idle();
    const status = store.get('AccessReview', KEY)!.status!;
    expect(status.phase).toBe('Completed');
    expect(status.completedAt).toBe('2026-12-01T00:00:01.000Z');
    expect(status.items!.map((i) => [i.user, i.decision, i.decidedBy, i.decidedAt])).toEqual([
      ['ann', 'keep', 'rita', '2026-11-30T09:00:00.000Z'],
      ['ben', 'revoke', 'rita', '2026-11-30T09:00:00.000Z'],
      ['cid', 'revoke', 'default', '2026-12-01T00:00:01.000Z'],
    ]);
    expect(groups('cid')).toEqual(['all-staff']);
    expect(groups('ann')).toEqual(['admins', 'all-staff']);
  });

  it('schedule: the completed review creates the next campaign, with what is still granted under review', async () => {
    await manager.idle();
    expect(store.get('AccessReview', KEY)!.status!.nextReview).toBe('q4-20270301');
    const next = store.get('AccessReview', { namespace: 'acme', name: 'q4-20270301' })!;
    expect(next.spec).toMatchObject({ dueDate: '2027-03-01T00:00:00Z', reviewers: ['rita'], defaultDecision: 'revoke', schedule: '90d' });
    expect(next.spec.decisions).toBeUndefined();
    expect(next.metadata.labels).toMatchObject({ 'rollcall.dev/review-series': 'q4' });
    expect(next.status).toMatchObject({ phase: 'Open' });
    expect(next.status!.items!.map((i) => i.user)).toEqual(['ann']);
  });
});
