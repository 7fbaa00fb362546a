// A mover (a User whose department and bindings change) is a declared change, not drift: its Events
// are AccountUpdated (on the system) and EntitlementRevoked (on the User), never DriftCorrected, and the
// rollcall_drift_corrections_total counter stays put. The audit line of the revoke names what used
// to grant it (the binding that no longer applies), never the role that still grants something else.
// A hand-made change to the system is drift, and is reported so.
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from '../../../src/clock/clock.ts';
import { describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { Metrics } from '../../../src/process/metrics.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';
import type { ManifestDirectory } from '../../../src/manifests/directory.ts';
import { accessBinding, accessRole, sqliteSystem, user, writeManifests } from '../../helpers/manifests.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const ROLES = [
  accessRole('engineer', { directory: ['all-staff', 'engineering'] }),
  accessRole('sales', { directory: ['all-staff', 'sales'] }),
  accessBinding('engineering', { role: 'engineer', userSelector: { matchLabels: { department: 'engineering' } } }),
  accessBinding('sales', { userSelector: { matchLabels: { department: 'sales' } } }),
];

describe('a mover', () => {
  let dir = '';
  let db = '';
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  const captured = capturedLogger('info');
  const metrics = new Metrics({ defaultMetrics: false });
  const clock = new TestClock(new Date('2026-11-26T09:00:00Z'));

  const write = (department: string, email = 'carol@acme.example') =>
    writeManifests(dir, 'all.yaml', [sqliteSystem('directory', db), ...ROLES, user({ name: 'carol', labels: { department } }, { department, email })]);
  const recorded = () =>
    captured.records.flatMap((r) =>
      r.event === undefined ? [] : [{ ...(r.event as { kind: string; name: string; reason: string }), message: String(r.msg) }],
    );
  const events = () => recorded().map((event) => event.reason);
  /** `Kind/name reason: message` of each Event. */
  const described = () => recorded().map((event) => `${event.kind}/${event.name} ${event.reason}: ${event.message}`);
  const drift = async () =>
    (await metrics.registry.getSingleMetricAsString('rollcall_drift_corrections_total')).match(/rollcall_drift_corrections_total\{[^}]*\} (\d+)/)?.[1] ?? '0';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-mover-'));
    db = join(dir, 'directory.db');
    write('sales');
    ({ store, directory } = storeFromManifests(dir, { logger: captured.logger }));
    manager = new Manager({ store, logger: captured.logger, metrics, clock });
    await manager.start();
    await manager.idle();
  });
  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves from sales to engineering: updated, granted and revoked, not drift; the revoke names the sales binding', async () => {
    expect(describeDirectory(db).find((a) => a.userName === 'carol')).toMatchObject({ groups: ['all-staff', 'sales'] });
    captured.records.length = 0;
    write('engineering');
    directory.reload();
    await manager.idle();
    expect(describeDirectory(db).find((a) => a.userName === 'carol')).toMatchObject({ groups: ['all-staff', 'engineering'] });
    // One Event per account and place, named after its strongest change: the loss of access on the
    // User, the routine changes on the system, where the correlator folds them.
    expect(described().sort()).toEqual([
      'ConnectedSystem/directory AccountUpdated: User carol: update department, grant engineering',
      'User/carol EntitlementRevoked: directory: revoke sales',
    ]);
    expect(await drift()).toBe('0');
    const audit = captured.records.filter((r) => r.audit === true);
    expect(audit.find((r) => r.op === 'grant')).toMatchObject({ entitlement: 'engineering', cause: { kind: 'AccessBinding', name: 'engineering' } });
    expect(audit.find((r) => r.op === 'revoke')).toMatchObject({
      entitlement: 'sales',
      cause: { kind: 'AccessBinding', name: 'sales', reason: 'no longer applies to this User' },
    });
  });

  it('a new e-mail address, the same roles: AccountUpdated only, not drift', async () => {
    captured.records.length = 0;
    write('engineering', 'carol.jones@acme.example');
    directory.reload();
    await manager.idle();
    expect(describeDirectory(db).find((a) => a.userName === 'carol')?.email).toBe('carol.jones@acme.example');
    expect(events()).toContain('AccountUpdated');
    expect(events()).not.toContain('DriftCorrected');
    expect(await drift()).toBe('0');
  });

  it('a group added by hand is drift: revoked, DriftCorrected, counted', async () => {
    const handle = new DatabaseSync(db);
    try {
      handle.prepare('INSERT INTO memberships (user_name, group_name) VALUES (?, ?)').run('carol', 'sales');
    } finally {
      handle.close();
    }
    captured.records.length = 0;
    await manager.requeueAll();
    await manager.idle();
    expect(describeDirectory(db).find((a) => a.userName === 'carol')).toMatchObject({ groups: ['all-staff', 'engineering'] });
    expect(events()).toEqual(expect.arrayContaining(['EntitlementRevoked', 'DriftCorrected']));
    expect(await drift()).toBe('1');
  });
});
