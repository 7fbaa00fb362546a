// Every change applied to a connected system logs one JSON line with audit: true and its cause.
// The controllers run on the in-memory store against the embedded sqlite system. Changes the orphan
// policy makes log the same line, with the ConnectedSystem as cause.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { TestClock } from '../../../src/clock/clock.ts';
import { openDirectory } from '../../../src/connectors/sqlite/database.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { Metrics } from '../../../src/process/metrics.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { accessBinding, accessReview, accessRole, sqliteSystem, user, writeManifests, type Manifest } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const T0 = new Date('2026-11-30T09:00:00Z');

describe('the audit trail', () => {
  let dir = '';
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const clock = new TestClock(T0);
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const audit = () =>
    lines
      .filter((line) => line.audit === true)
      .map(({ audit, namespace, system, user, userName, op, entitlement, cause }) => ({ audit, namespace, system, user, userName, op, entitlement, cause }));

  const write = (bindingUntil: string, review: Manifest[] = []) =>
    writeManifests(dir, 'all.yaml', [
      sqliteSystem('directory', join(dir, 'directory.db'), { deprovision: { policy: 'disable' } }),
      accessRole('staff', { directory: ['all-staff'] }),
      accessRole('oncall', { directory: ['pager'] }),
      accessBinding('staff', { users: ['ann'] }),
      accessBinding('ann-oncall', { role: 'oncall', users: ['ann'], validUntil: bindingUntil, reason: 'incident', ticket: 'INC-7' }),
      user('ann'),
      ...review,
    ]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-audit-trail-'));
    write('2026-11-30T10:00:00Z');
    const logger = pino({ level: 'info' }, sink);
    ({ store, directory } = storeFromManifests(dir, { logger: pino({ level: 'silent' }), clock }));
    manager = new Manager({ store, logger, metrics: new Metrics({ defaultMetrics: false }), clock });
    await manager.start();
    await manager.idle();
  });
  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a joiner: create and each grant name the binding that caused them, with reason and ticket', () => {
    expect(audit()).toEqual([
      {
        audit: true,
        namespace: 'acme',
        system: 'directory',
        user: 'ann',
        userName: 'ann',
        op: 'create',
        entitlement: undefined,
        cause: { kind: 'AccessBinding', name: 'staff' },
      },
      {
        audit: true,
        namespace: 'acme',
        system: 'directory',
        user: 'ann',
        userName: 'ann',
        op: 'grant',
        entitlement: 'all-staff',
        cause: { kind: 'AccessBinding', name: 'staff' },
      },
      {
        audit: true,
        namespace: 'acme',
        system: 'directory',
        user: 'ann',
        userName: 'ann',
        op: 'grant',
        entitlement: 'pager',
        cause: { kind: 'AccessBinding', name: 'ann-oncall', reason: 'incident', ticket: 'INC-7' },
      },
    ]);
  });

  it('temporary access ending: the revoke names the binding and when it ended', async () => {
    lines.length = 0;
    clock.set(new Date('2026-11-30T10:00:01Z'));
    await manager.requeueAll();
    await manager.idle();
    expect(audit()).toEqual([
      {
        audit: true,
        namespace: 'acme',
        system: 'directory',
        user: 'ann',
        userName: 'ann',
        op: 'revoke',
        entitlement: 'pager',
        cause: { kind: 'AccessBinding', name: 'ann-oncall', reason: 'incident; ended at 2026-11-30T10:00:00.000Z', ticket: 'INC-7' },
      },
    ]);
  });

  it("an access review's revoke takes the access away through the normal lifecycle, with the review as cause", async () => {
    lines.length = 0;
    clock.advance(60_000);
    write('2026-11-30T10:00:00Z', [
      accessReview('q4', {
        reviewers: ['rita'],
        dueDate: '2026-12-31T00:00:00Z',
        decisions: [{ user: 'ann', binding: 'staff', decision: 'revoke', decidedBy: 'rita' }],
      }),
    ]);
    directory.reload();
    await manager.idle();
    // A leaver is cut off first: the disable, then the revokes.
    expect(audit()).toEqual([
      expect.objectContaining({ op: 'disable', cause: expect.objectContaining({ kind: 'AccessReview', name: 'q4' }) }),
      {
        audit: true,
        namespace: 'acme',
        system: 'directory',
        user: 'ann',
        userName: 'ann',
        op: 'revoke',
        entitlement: 'all-staff',
        cause: { kind: 'AccessReview', name: 'q4', reason: 'revoked by rita' },
      },
    ]);
  });
});

describe('the audit trail of the orphan policy', () => {
  let dir = '';
  let manager: Manager | undefined;
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-audit-orphans-'));
  });
  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['disable', 'delete'] as const)('orphans: %s logs one audit line per change, the ConnectedSystem and its policy as cause', async (policy) => {
    lines.length = 0;
    const path = join(dir, `${policy}.db`);
    // Left behind by hand: an account carrying this system's marker (owner acme/directory) that no User declares.
    const db = openDirectory(path, { busyTimeoutMs: 1000 });
    db.exec(
      "INSERT INTO accounts (user_name, managed, owner, created_at, updated_at) VALUES ('zed', 1, 'acme/directory', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
    );
    db.close();
    const world = join(dir, policy);
    mkdirSync(world);
    writeManifests(world, 'all.yaml', [
      sqliteSystem('directory', path, { deprovision: { policy: 'disable' }, orphans: policy }),
      accessRole('staff', { directory: ['all-staff'] }),
      accessBinding('staff', { users: ['ann'] }),
      user('ann'),
    ]);
    const clock = new TestClock(T0);
    const { store } = storeFromManifests(world, { logger: pino({ level: 'silent' }), clock });
    manager = new Manager({ store, logger: pino({ level: 'info' }, sink), metrics: new Metrics({ defaultMetrics: false }), clock });
    await manager.start();
    await manager.idle();
    await manager.stop();
    manager = undefined;

    const orphanLines = lines.filter((line) => line.audit === true && line.userName === 'zed');
    expect(
      orphanLines.map(({ audit, namespace, system, user, userName, op, entitlement, cause }) => ({
        audit,
        namespace,
        system,
        user,
        userName,
        op,
        entitlement,
        cause,
      })),
    ).toEqual([
      {
        audit: true,
        namespace: 'acme',
        system: 'directory',
        user: undefined,
        userName: 'zed',
        op: policy,
        entitlement: undefined,
        cause: { kind: 'ConnectedSystem', name: 'directory', reason: `orphan: no User declares this account; spec.orphans is ${policy}` },
      },
    ]);
    expect(orphanLines[0]!.msg).toBe(`orphan zed: ${policy} account`);
    // The audit line follows the change the system really underwent.
    const after = new DatabaseSync(path);
    try {
      const row = after.prepare("SELECT disabled FROM accounts WHERE user_name = 'zed'").get() as { disabled: number } | undefined;
      expect(row === undefined ? 'deleted' : row.disabled === 1 ? 'disabled' : 'present').toBe(policy === 'disable' ? 'disabled' : 'deleted');
    } finally {
      after.close();
    }
  });
});
