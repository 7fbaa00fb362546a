// Requests per User at the floor (issue 19): through the real reconcile path (the manifest store and
// the Manager, as `rollcall run --manifests DIR` runs them), with a counting proxy
// (test/helpers/wire-counter.ts) between the connectors and real slapd and PostgreSQL servers.
//  - joiners (2 groups each) cost per User no more than the raw baseline (bench/scale/raw.ts):
//    PostgreSQL 4 round trips (CREATE ROLE, COMMENT, 2 GRANTs: Rollcall sends CREATE ROLE and COMMENT
//    in one, and reads the account back in the fourth); LDAP 3 operations (add, 2 modifies of the
//    groups, which Rollcall batches across Users) plus the read-back's two searches (the entry, its
//    groups): ldapts does not hand back the post-read control's entry, so Ready costs a read there;
//  - a leaver costs a small fixed number;
//  - an in-sync resync costs the same for 20 Users as for 40: what a pass needs is listed, not asked
//    per User;
//  - a name someone takes after the listing still ends as a conflict, the account left alone.
// A pass's own requests (check, listing, the group roles' fitness) are a constant, allowed beside.
// ROUND_TRIPS_DEBUG=1 prints what each pass sent, tallied (=seq: in order), to trace a count.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_GROUP_PLACEHOLDER } from '../../src/connectors/ldap/index.ts';
import { Manager } from '../../src/controllers/manager.ts';
import type { ManifestDirectory } from '../../src/manifests/directory.ts';
import type { MemoryStore } from '../../src/store/memory-store.ts';
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
const GROUPS = ['staff', 'vpn'];
/** The raw baseline's requests for a joiner with 2 groups (bench/scale/raw.ts). */
const RAW = { postgres: 4, ldap: 3 };
/** LDAP's read-back after writing (sync-account.ts, "Ready means read back"): one search of the entry, one of its groups. */
const LDAP_READ_BACK = 2;
/**
 * What one pass costs a system whatever its Users. PostgreSQL: the check (2), the catalogs' change
 * token, the listing, every role name, the group roles' fitness. LDAP: the check (2), the change
 * token (the root DSE, the suffix's contextCSN), the groups, the entries, every name.
 */
const PER_PASS = { postgres: 6, ldap: 7 };
/**
 * A leaver loses both groups and is disabled, then read back. PostgreSQL: 2 REVOKEs, the role's
 * lookup, ALTER ROLE NOLOGIN with the ending of its sessions in one round trip, the read-back. LDAP:
 * 2 modifies of the groups, one search for the entry, the password scrambled and the lock set (2
 * modifies), the read-back (2 searches).
 */
const LEAVER = { postgres: 5, ldap: 7 };

/** What making the marker role sends (postgres/marker.ts): its read, and its creation. */
/**
 * The group roles' fitness (connectors/postgres/grantable.ts): asked once per listing, by the first
 * sync after it that grants or keeps a group, in whichever pass that lands. A listing that wakes no
 * User (an in-sync resync) leaves it to the next pass: a per-pass cost, not a leaver's.
 */
const FITNESS = 'WITH RECURSIVE reach(';
const MARKER_SETUP = ['SELECT r.rolcanlogin AS "canLogin", r.rolsuper AS superuser', 'CREATE ROLE "rollcall:acme/db" NOLOGIN'];

const names = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `rt${String(from + i).padStart(3, '0')}`);

/** Requests sent, by system: PostgreSQL round trips, LDAP operations (binds aside: one per connection). */
function requests(counter: WireCounter, protocol: 'postgres' | 'ldap'): number {
  const counts = counter.counts();
  if (protocol === 'postgres') return counts['roundTrips'] ?? 0;
  return Object.entries(counts)
    .filter(([kind]) => kind !== 'bind' && kind !== 'unbind')
    .reduce((sum, [, n]) => sum + n, 0);
}

/** How often each request was sent, most frequent first: where a count comes from. */
function tally(lines: string[]): string {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([line, n]) => `${String(n).padStart(5)} ${line}`)
    .join('\n');
}

describe('requests per User through the reconcile path, counted off the wire', () => {
  let postgres: PostgresServer;
  let slapd: SlapdServer;
  let pgCounter: WireCounter;
  let ldapCounter: WireCounter;
  let dir: string;
  let store: MemoryStore;
  let directory: ManifestDirectory;
  let manager: Manager;
  let ldapAdmin: Client;

  const manifests = (active: string[], leavers: string[] = []): Manifest[] => [
    postgresSystem('db', { host: '127.0.0.1', port: pgCounter.port }),
    postgresCredentials('db', postgres),
    ldapSystem('dir', { url: `ldap://127.0.0.1:${ldapCounter.port}`, peopleDN: slapd.peopleDN, groupsDN: slapd.groupsDN }),
    slapdCredentials('dir', slapd),
    accessRole('staff', { db: GROUPS, dir: GROUPS }),
    accessBinding('staff', { users: active }),
    ...active.map((name) => user(name, { displayName: `Person ${name}` })),
    ...leavers.map((name) => user(name, { displayName: `Person ${name}`, state: 'terminated' })),
  ];

  /** Applies the manifests, runs until idle, and returns the requests each system received meanwhile. */
  async function pass(run: () => Promise<void>): Promise<{ postgres: number; ldap: number }> {
    pgCounter.reset();
    ldapCounter.reset();
    await run();
    await manager.idle();
    if (process.env['ROUND_TRIPS_DEBUG'])
      for (const counter of [pgCounter, ldapCounter])
        console.log(process.env['ROUND_TRIPS_DEBUG'] === 'seq' ? counter.sent().join('\n') : tally(counter.sent()));
    return { postgres: requests(pgCounter, 'postgres'), ldap: requests(ldapCounter, 'ldap') };
  }

  const apply = (active: string[], leavers: string[] = []) =>
    pass(async () => {
      writeManifests(dir, 'all.yaml', manifests(active, leavers));
      directory.reload();
    });

  const resync = () => pass(() => manager.requeueAll());

  beforeAll(async () => {
    [postgres, slapd] = await Promise.all([startPostgres(), startSlapd()]);
    for (const group of GROUPS) await adminQuery(postgres, `CREATE ROLE ${pg.escapeIdentifier(group)} NOLOGIN`);
    ldapAdmin = new Client({ url: slapd.url });
    await ldapAdmin.bind(slapd.adminDN, slapd.adminPassword);
    for (const group of GROUPS) {
      await ldapAdmin.add(`cn=${group},${slapd.groupsDN}`, { objectClass: ['groupOfNames'], cn: group, member: EMPTY_GROUP_PLACEHOLDER });
    }
    pgCounter = await startWireCounter('postgres', { host: postgres.host, port: postgres.port });
    ldapCounter = await startWireCounter('ldap', { host: '127.0.0.1', port: Number(new URL(slapd.url).port) });
    dir = mkdtempSync(join(tmpdir(), 'rollcall-round-trips-'));
    writeManifests(dir, 'all.yaml', manifests([]));
    ({ store, directory } = storeFromManifests(dir, { logger }));
    // No change-token polls between passes: they come on a timer, not per User, and would land in a count at random.
    manager = new Manager({ store, logger, changePollMs: 0 });
    await manager.start();
    await manager.idle();
  }, 120_000);

  afterAll(async () => {
    await manager?.stop();
    await ldapAdmin?.unbind().catch(() => undefined);
    await Promise.all([pgCounter?.close(), ldapCounter?.close()]);
    await Promise.all([postgres?.close(), slapd?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ready = (name: string) => store.get('User', { namespace: 'acme', name })?.status?.systems;

  it('joiners cost per User no more than the raw baseline, in each system', async () => {
    const batch = names(0, 20);
    const counted = await apply(batch);
    expect(batch.map(ready)).toEqual(batch.map(() => '2/2'));
    // The system's first create makes its marker role: once in the system's life, read and made by
    // each of the creates that run at that moment (4), not a cost of the Users.
    const marker = pgCounter.sent().filter((line) => MARKER_SETUP.some((start) => line.startsWith(start))).length;
    console.log(`joiners: ${JSON.stringify(counted)} for ${batch.length} Users, ${marker} PostgreSQL round trips of them the marker role's`);
    expect(counted.postgres - marker).toBeLessThanOrEqual(RAW.postgres * batch.length + PER_PASS.postgres);
    expect(counted.ldap).toBeLessThanOrEqual((RAW.ldap + LDAP_READ_BACK) * batch.length + PER_PASS.ldap);
  });

  it('an in-sync resync costs a constant, whether 20 or 40 Users', async () => {
    const twenty = await resync();
    await apply(names(0, 40));
    const forty = await resync();
    console.log(`in-sync resync: 20 Users ${JSON.stringify(twenty)}, 40 Users ${JSON.stringify(forty)}`);
    expect(forty).toEqual(twenty);
    expect(forty.postgres).toBeLessThanOrEqual(PER_PASS.postgres);
    expect(forty.ldap).toBeLessThanOrEqual(PER_PASS.ldap);
  });

  it('a leaver costs a small fixed number', async () => {
    const counted = await apply(names(1, 40), names(0, 1));
    expect(store.get('User', { namespace: 'acme', name: names(0, 1)[0]! })?.status?.accounts?.map((a) => a.state)).toEqual(['disabled', 'disabled']);
    const fitness = pgCounter.sent().filter((line) => line.startsWith(FITNESS)).length;
    console.log(`leaver: ${JSON.stringify(counted)}, ${fitness} PostgreSQL round trips of them the group roles' fitness`);
    expect(fitness).toBeLessThanOrEqual(1);
    expect(counted.postgres - fitness).toBeLessThanOrEqual(LEAVER.postgres);
    expect(counted.ldap).toBeLessThanOrEqual(LEAVER.ldap);
  });

  it('a name taken after the listing still ends as a conflict: the create fails, the account is read, and left alone', async () => {
    // Made behind Rollcall's back once the systems were listed: no marker, so not to be taken over (spec.adoption never).
    await adminQuery(postgres, `CREATE ROLE ${pg.escapeIdentifier('rtx')} LOGIN`);
    await ldapAdmin.add(`uid=rtx,${slapd.peopleDN}`, { objectClass: ['inetOrgPerson'], uid: 'rtx', cn: 'someone else', sn: 'else' });
    await apply([...names(1, 40), 'rtx'], names(0, 1));
    const accounts = store.get('User', { namespace: 'acme', name: 'rtx' })?.status?.accounts ?? [];
    expect(accounts.map((a) => [a.system, a.state])).toEqual([
      ['db', 'error'],
      ['dir', 'error'],
    ]);
    for (const account of accounts) expect(account.message).toMatch(/exists that Rollcall does not manage; set spec.adoption/);
    // One create each, refused: a later reconcile of the User reads the account first, until a listing sees the name.
    expect(pgCounter.sent().filter((line) => line.startsWith('CREATE ROLE "rtx"'))).toHaveLength(1);
    expect(ldapCounter.counts()['add']).toBe(1);
    const { rows } = await adminQuery(postgres, `SELECT count(*)::int AS n FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'rtx'`);
    expect(rows[0].n).toBe(0);
    const { searchEntries } = await ldapAdmin.search(`uid=rtx,${slapd.peopleDN}`, { scope: 'base', attributes: ['businessCategory', 'cn'] });
    expect([searchEntries[0]?.['businessCategory'] ?? []].flat()).toEqual([]);
    expect(searchEntries[0]?.['cn']).toBe('someone else');
  });
});
