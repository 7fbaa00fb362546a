// Drift found sooner: between listings, a system that can say whether it changed (PostgreSQL's
// change token: its catalogs' row versions) is asked every few seconds, and listed at once when it
// changed while Rollcall wrote nothing there. A hand-made change is then corrected long before the
// resyncInterval (10 minutes here), and Rollcall's own writes never set off a listing of their own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Manager } from '../../src/controllers/manager.ts';
import type { ManifestDirectory } from '../../src/manifests/directory.ts';
import { Metrics } from '../../src/process/metrics.ts';
import { eventually } from '../helpers/eventually.ts';
import { accessBinding, accessRole, postgresCredentials, postgresSystem, user, writeManifests, type Manifest } from '../helpers/manifests.ts';
import { storeFromManifests } from '../helpers/store-from-manifests.ts';
import { adminQuery, startPostgres, type PostgresServer } from '../servers/postgres.ts';

const logger = pino({ level: 'silent' });
/** Asked this often here (CHANGE_POLL_MS in production), so the test waits for a few polls, not minutes. */
const POLL_MS = 300;

describe('a system that says it changed is listed at once', () => {
  let postgres: PostgresServer;
  let dir: string;
  let directory: ManifestDirectory;
  let manager: Manager;
  const metrics = new Metrics({ defaultMetrics: false });

  const manifests = (people: string[]): Manifest[] => [
    postgresSystem('db', postgres, { resyncInterval: '10m' }),
    postgresCredentials('db', postgres),
    accessRole('staff', { db: ['staff'] }),
    accessBinding('staff', { users: people }),
    ...people.map((name) => user(name)),
  ];
  const groupsOf = async (name: string) =>
    (
      await adminQuery(
        postgres,
        `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 AND g.rolname IN ('staff', 'vpn') ORDER BY 1`,
        [name],
      )
    ).rows.map((row: { rolname: string }) => row.rolname);
  const listings = async (cause: string) => {
    const text = await metrics.registry.getSingleMetricAsString('rollcall_listings_total');
    return Number(new RegExp(`cause="${cause}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  beforeAll(async () => {
    postgres = await startPostgres();
    for (const group of ['staff', 'vpn']) await adminQuery(postgres, `CREATE ROLE ${pg.escapeIdentifier(group)} NOLOGIN`);
    dir = mkdtempSync(join(tmpdir(), 'rollcall-drift-poll-'));
    writeManifests(dir, 'all.yaml', manifests(['alice']));
    let store;
    ({ store, directory } = storeFromManifests(dir, { logger }));
    manager = new Manager({ store, logger, metrics, changePollMs: POLL_MS });
    await manager.start();
    await manager.idle();
    expect(await groupsOf('alice')).toEqual(['staff']);
  }, 120_000);

  afterAll(async () => {
    await manager?.stop();
    await postgres?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("Rollcall's own writes do not set off a listing", async () => {
    const before = await listings('changed');
    writeManifests(dir, 'all.yaml', manifests(['alice', 'bob', 'carol']));
    directory.reload();
    await manager.idle();
    expect(await groupsOf('carol')).toEqual(['staff']);
    // Several polls see the token the joiners' writes changed; none of them lists.
    await new Promise((resolve) => setTimeout(resolve, 5 * POLL_MS));
    expect(await listings('changed')).toBe(before);
  });

  it('a membership granted by hand is revoked within seconds, not at the 10-minute resync', async () => {
    const before = await listings('changed');
    await adminQuery(postgres, 'GRANT vpn TO alice');
    await eventually(async () => expect(await groupsOf('alice')).toEqual(['staff']), { timeoutMs: 30_000 });
    expect(await listings('changed')).toBeGreaterThan(before);
  });

  it('a login role dropped by hand is made again', async () => {
    await adminQuery(postgres, 'DROP ROLE bob');
    await eventually(async () => expect(await groupsOf('bob')).toEqual(['staff']), { timeoutMs: 30_000 });
  });
});
