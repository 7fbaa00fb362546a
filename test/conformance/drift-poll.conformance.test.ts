// Drift found sooner: between listings, a system that can say whether it changed (PostgreSQL's
// change token: its catalogs' row versions; slapd's: the suffix's contextCSN, kept by the syncprov
// overlay) is asked every few seconds, and listed at once when it
// changed while Rollcall wrote nothing there. A hand-made change is then corrected long before the
// resyncInterval (10 minutes here), and Rollcall's own writes never set off a listing of their own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Manager } from '../../src/controllers/manager.ts';
import type { ManifestDirectory } from '../../src/manifests/directory.ts';
import { Metrics } from '../../src/process/metrics.ts';
import { eventually } from '../helpers/eventually.ts';
import { EMPTY_GROUP_PLACEHOLDER } from '../../src/connectors/ldap/index.ts';
import {
  accessBinding,
  accessRole,
  ldapSystem,
  postgresCredentials,
  postgresSystem,
  slapdCredentials,
  user,
  writeManifests,
  type Manifest,
} from '../helpers/manifests.ts';
import { storeFromManifests } from '../helpers/store-from-manifests.ts';
import { adminQuery, startPostgres, type PostgresServer } from '../servers/postgres.ts';
import { start as startSlapd, type SlapdServer } from '../servers/slapd.ts';

const logger = pino({ level: 'silent' });
/** Asked this often here (CHANGE_POLL_MS in production), so the test waits for a few polls, not minutes. */
const POLL_MS = 300;

describe('a system that says it changed is listed at once', () => {
  let postgres: PostgresServer;
  let slapd: SlapdServer;
  let ldapAdmin: Client;
  let dir: string;
  let directory: ManifestDirectory;
  let manager: Manager;
  const metrics = new Metrics({ defaultMetrics: false });

  const manifests = (people: string[]): Manifest[] => [
    postgresSystem('db', postgres, { resyncInterval: '10m' }),
    postgresCredentials('db', postgres),
    ldapSystem('dir', slapd, { resyncInterval: '10m' }),
    slapdCredentials('dir', slapd),
    accessRole('staff', { db: ['staff'], dir: ['staff'] }),
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
  const membersOf = async (group: string) =>
    (await ldapAdmin.search(`cn=${group},${slapd.groupsDN}`, { scope: 'base', attributes: ['member'] })).searchEntries
      .flatMap((entry) => [entry['member'] ?? []].flat().map(String))
      .filter((dn) => dn !== EMPTY_GROUP_PLACEHOLDER);
  const personDN = (name: string) => `uid=${name},${slapd.peopleDN}`;
  const listings = async (cause: string) => {
    const text = await metrics.registry.getSingleMetricAsString('rollcall_listings_total');
    return Number(new RegExp(`cause="${cause}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  beforeAll(async () => {
    [postgres, slapd] = await Promise.all([startPostgres(), startSlapd()]);
    ldapAdmin = new Client({ url: slapd.url });
    await ldapAdmin.bind(slapd.adminDN, slapd.adminPassword);
    for (const group of ['staff', 'vpn']) {
      await ldapAdmin.add(`cn=${group},${slapd.groupsDN}`, { objectClass: ['groupOfNames'], cn: group, member: EMPTY_GROUP_PLACEHOLDER });
    }
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
    await ldapAdmin?.unbind().catch(() => undefined);
    await Promise.all([postgres?.close(), slapd?.close()]);
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

  it('a group membership added by hand in the directory is taken away within seconds', async () => {
    expect(await membersOf('staff')).toContain(personDN('alice'));
    const before = await listings('changed');
    await ldapAdmin.modify(
      `cn=vpn,${slapd.groupsDN}`,
      new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [personDN('alice')] }) }),
    );
    await eventually(async () => expect(await membersOf('vpn')).toEqual([]), { timeoutMs: 30_000 });
    expect(await listings('changed')).toBeGreaterThan(before);
  });

  it('a login role dropped by hand is made again', async () => {
    await adminQuery(postgres, 'DROP ROLE bob');
    await eventually(async () => expect(await groupsOf('bob')).toEqual(['staff']), { timeoutMs: 30_000 });
  });
});
