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
import { startWireCounter, type WireCounter } from '../helpers/wire-counter.ts';
import { adminQuery, startPostgres, type PostgresServer } from '../servers/postgres.ts';
import { start as startSlapd, type SlapdServer } from '../servers/slapd.ts';

const logger = pino({ level: 'silent' });
/** Asked this often here (CHANGE_POLL_MS in production), so the test waits for a few polls, not minutes. */
const POLL_MS = 300;

describe('a system that says it changed is listed at once', () => {
  let postgres: PostgresServer;
  let slapd: SlapdServer;
  let ldapAdmin: Client;
  /** Between Rollcall and PostgreSQL for the system `slowdb`: counts its token reads, and can slow them. */
  let slowLink: WireCounter;
  let dir: string;
  let directory: ManifestDirectory;
  let manager: Manager;
  const metrics = new Metrics({ defaultMetrics: false, systemLabels: true });

  const manifests = (people: string[]): Manifest[] => [
    postgresSystem('db', postgres, { resyncInterval: '10m' }),
    postgresCredentials('db', postgres),
    postgresSystem('slowdb', { host: '127.0.0.1', port: slowLink.port }, { resyncInterval: '10m' }),
    postgresCredentials('slowdb', postgres),
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
  /** Listings of the system `db` (or `dir`) for this cause. `slowdb` shares db's server, so db's writes are outside changes to it. */
  const listings = async (cause: string, system = 'db') => {
    const text = await metrics.registry.getSingleMetricAsString('rollcall_listings_total');
    const line = text.split('\n').find((l) => l.includes(`system="acme/${system}"`) && l.includes(`cause="${cause}"`));
    return Number(line?.split(' ').at(-1) ?? 0);
  };

  beforeAll(async () => {
    [postgres, slapd] = await Promise.all([startPostgres(), startSlapd()]);
    ldapAdmin = new Client({ url: slapd.url });
    await ldapAdmin.bind(slapd.adminDN, slapd.adminPassword);
    for (const group of ['staff', 'vpn']) {
      await ldapAdmin.add(`cn=${group},${slapd.groupsDN}`, { objectClass: ['groupOfNames'], cn: group, member: EMPTY_GROUP_PLACEHOLDER });
    }
    for (const group of ['staff', 'vpn']) await adminQuery(postgres, `CREATE ROLE ${pg.escapeIdentifier(group)} NOLOGIN`);
    slowLink = await startWireCounter('postgres', { host: postgres.host, port: postgres.port });
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
    await slowLink?.close();
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
    expect(await listings('changed', 'dir')).toBe(0);
  });

  it('a membership granted by hand is revoked within seconds, not at the 10-minute resync', async () => {
    const before = await listings('changed');
    await adminQuery(postgres, 'GRANT vpn TO alice');
    await eventually(async () => expect(await groupsOf('alice')).toEqual(['staff']), { timeoutMs: 30_000 });
    expect(await listings('changed')).toBeGreaterThan(before);
  });

  it('a group membership added by hand in the directory is taken away within seconds', async () => {
    expect(await membersOf('staff')).toContain(personDN('alice'));
    const before = await listings('changed', 'dir');
    await ldapAdmin.modify(
      `cn=vpn,${slapd.groupsDN}`,
      new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [personDN('alice')] }) }),
    );
    await eventually(async () => expect(await membersOf('vpn')).toEqual([]), { timeoutMs: 30_000 });
    expect(await listings('changed', 'dir')).toBeGreaterThan(before);
  });

  it('a system slow to say whether it changed is not asked again until its next listing', async () => {
    const tokenReads = () => slowLink.sent().filter((line) => line.startsWith("SELECT (SELECT count(*) || ':' || coalesce(max(xmin")).length;
    // Answering at once, it is asked every poll.
    const before = tokenReads();
    await eventually(() => expect(tokenReads()).toBeGreaterThanOrEqual(before + 2), { timeoutMs: 10_000 });
    // Slower than a second: the next read is the last until the listing (at the 10-minute resync).
    slowLink.delay('pg_shdescription', 1_500);
    const slowedAt = tokenReads();
    await new Promise((resolve) => setTimeout(resolve, 1_500 + 8 * POLL_MS));
    expect(tokenReads()).toBeLessThanOrEqual(slowedAt + 1);
    slowLink.delay('', 0);
  });

  it('a login role dropped by hand is made again', async () => {
    await adminQuery(postgres, 'DROP ROLE bob');
    await eventually(async () => expect(await groupsOf('bob')).toEqual(['staff']), { timeoutMs: 30_000 });
  });
});
