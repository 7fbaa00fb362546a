// The deletion guard is on for every system, so every leaver asks it first. At a real company's size
// (ROLLCALL_SCALE_USERS, default 10,000 Users in two embedded directories without spec.deletionGuard),
// leavers one after another must each be cut off: never held, and done (account disabled in both
// systems, queues idle), looking only at what changed for each (its time is measured by
// the scale benchmark, not here). The first leaver after a start pays for the guard's cold cache: one
// pass over every User.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { describeDirectory } from '../../src/connectors/sqlite/directory.ts';
import { Manager } from '../../src/controllers/manager.ts';
import { accessBinding, accessRole, sqliteSystem, user, writeManifests, type Manifest } from '../helpers/manifests.ts';
import { storeFromManifests } from '../helpers/store-from-manifests.ts';

const USERS = Number(process.env.ROLLCALL_SCALE_USERS ?? 10_000);
// The company's people joined long before these leavers (as the API server would have recorded it):
// the deletion guard's percentage counts no account of a User created within its window, so Users
// created a moment before would all be left out of its base (engine/guard-base.ts).
const JOINED = '2020-01-01T00:00:00Z';
// Accounts one leaver may look up once the guard's cache is warm: a few per system, never the namespace.
const PER_LEAVER = 16;
// At most 20 % of the Users, the default guard's share: none of them may be held.
const LEAVERS = Math.min(100, Math.floor(USERS / 5));
const dir = mkdtempSync(join(tmpdir(), 'rollcall-single-leaver-'));
const db = (name: string) => join(dir, `${name}.db`);

function manifests(): Manifest[] {
  return [
    ...['directory', 'wiki'].map((system) => sqliteSystem(system, db(system))),
    accessRole('staff', { directory: ['staff'], wiki: ['readers'] }),
    accessBinding('staff', { userSelector: { matchLabels: { staff: 'yes' } } }),
    ...Array.from({ length: USERS }, (_, i) => user({ name: `u${i}`, labels: { staff: 'yes' }, creationTimestamp: JOINED })),
  ];
}

describe(`${USERS} Users under the default deletion guard, then ${LEAVERS} leavers one after another`, () => {
  const logger = pino({ level: 'warn' });
  let manager: Manager | undefined;
  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cuts each leaver off: never held, and looks only at what changed, not the namespace', async () => {
    writeManifests(dir, 'company.yaml', manifests());
    const { store } = storeFromManifests(dir, { logger });
    manager = new Manager({ store, logger });
    await manager.start();
    await manager.idle();

    // The work each leaver costs, counted in accounts looked up in the listing cache: what made a
    // leaver slow at this size was the deletion guard looking at every User of the namespace for each.
    // (Its time is the scale benchmark's to measure, not a test's: npm run bench -- --scale.)
    let reads = 0;
    const { observed } = manager.context;
    const get = observed.get.bind(observed);
    observed.get = (system, userName) => {
      reads++;
      return get(system, userName);
    };
    const looked: number[] = [];
    const step = Math.floor(USERS / LEAVERS);
    const leavers = Array.from({ length: LEAVERS }, (_, i) => `u${i * step}`);
    for (const name of leavers) {
      reads = 0;
      await store.patchUser({ namespace: 'acme', name }, { spec: { state: 'terminated' } });
      await manager.idle();
      looked.push(reads);
      const ready = store.get('User', { namespace: 'acme', name })?.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready, name).toMatchObject({ status: 'True', reason: 'Deprovisioned' });
    }

    for (const system of ['directory', 'wiki']) {
      const gone = describeDirectory(db(system)).filter((row) => leavers.includes(row.userName));
      expect(gone.map((row) => `${row.userName} ${row.state} ${row.groups.join()}`)).toEqual(leavers.map((name) => `${name} disabled `).sort());
      const csys = store.get('ConnectedSystem', { namespace: 'acme', name: system });
      expect(
        csys?.status?.conditions?.find((c) => c.type === 'DeletionGuardTripped'),
        system,
      ).toMatchObject({ status: 'False' });
      expect(csys?.status?.recentDeprovisions?.map((r) => r.userName).sort(), system).toEqual([...leavers].sort());
    }
    // The first leaver after the start may look at every User once per system (the guard's cold
    // cache); every later one only at what changed: the leaver and what its pass wrote.
    const all = `all, in order: ${looked.join(', ')}`;
    expect(looked[0], `accounts looked up for the first leaver (${all})`).toBeLessThanOrEqual(2 * USERS + PER_LEAVER);
    expect(Math.max(...looked.slice(1)), `accounts looked up for a later leaver (${all})`).toBeLessThanOrEqual(PER_LEAVER);
  }, 600_000);
});
