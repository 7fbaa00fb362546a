// The pure engine over a whole namespace: desiredAccounts for every User, then planChanges per
// system. Against systems already in sync this is the CPU a full resync costs; against empty
// systems, the CPU of a first sync.
import { CANONICAL_ATTRIBUTES, type Capabilities, type DesiredAccount, type ObservedAccount } from '../src/api/index.ts';
import { desiredAccounts, planChanges } from '../src/engine/index.ts';
import { formatMs, measure, type Row } from './measure.ts';
import { BINDING_COUNT, generateWorld, parsed, ROLE_COUNT, SYSTEM_NAMES, type World } from './world.ts';

const CAPABILITIES: Capabilities = { disable: true, entitlements: true, attributes: CANONICAL_ATTRIBUTES };
const NOW = new Date('2026-06-01T00:00:00Z');

function plan(world: World, observedBySystem: Map<string, ObservedAccount[]>): number {
  const desiredBySystem = new Map<string, DesiredAccount[]>(SYSTEM_NAMES.map((name) => [name, []]));
  for (const user of world.users) {
    for (const account of desiredAccounts(user, world.bindings, world.roles, world.systems, NOW)) desiredBySystem.get(account.system)!.push(account);
  }
  let changes = 0;
  for (const [system, desired] of desiredBySystem) changes += planChanges(desired, observedBySystem.get(system) ?? [], CAPABILITIES).length;
  return changes;
}

/** What each system holds once converged: exactly the desired accounts. */
function inSync(world: World): Map<string, ObservedAccount[]> {
  const observed = new Map<string, ObservedAccount[]>();
  for (const user of world.users) {
    for (const d of desiredAccounts(user, world.bindings, world.roles, world.systems, NOW)) {
      const list = observed.get(d.system) ?? [];
      list.push({ userName: d.userName, id: d.userName, state: 'present', attributes: d.attributes, entitlements: d.entitlements });
      observed.set(d.system, list);
    }
  }
  return observed;
}

export async function engineBenchmark(userCounts: number[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const count of userCounts) {
    const world = parsed(generateWorld(count, () => ({ type: 'sqlite', sqlite: { path: 'unused.db' } })));
    const synced = inSync(world);
    const accounts = [...synced.values()].reduce((sum, list) => sum + list.length, 0);
    const iterations = count >= 10_000 ? 7 : 15;

    let resyncChanges = -1;
    const resync = await measure(iterations, 2, () => void (resyncChanges = plan(world, synced)));
    if (resyncChanges !== 0) throw new Error(`engine: a resync of systems in sync planned ${resyncChanges} changes, expected 0`);
    let firstChanges = 0;
    const first = await measure(iterations, 2, () => void (firstChanges = plan(world, new Map())));

    const shape = `${count.toLocaleString('en')} Users, ${ROLE_COUNT} roles, ${BINDING_COUNT} bindings, ${SYSTEM_NAMES.length} systems`;
    rows.push({
      benchmark: 'engine',
      case: `full resync, in sync (${shape})`,
      median: formatMs(resync.median),
      detail: `${formatMs(resync.median / count)} per User; ${accounts.toLocaleString('en')} accounts, 0 changes planned; n=${iterations}`,
    });
    rows.push({
      benchmark: 'engine',
      case: `first sync, empty systems (${shape})`,
      median: formatMs(first.median),
      detail: `${formatMs(first.median / count)} per User; ${firstChanges.toLocaleString('en')} changes planned; n=${iterations}`,
    });
  }
  return rows;
}
