// `rollcall plan -f DIR`: what Rollcall would change in each connected system, like `terraform plan`.
// Observes the real systems, changes nothing. Exit 0: nothing to do; 2: changes pending; 1: error.
// The plan is the engine's planSystemPass, the same decision the controllers carry out.
import { changeUserName, errorMessage, type AccountChange, type ConnectedSystem } from '../api/index.ts';
import { systemClock, type Clock } from '../clock/clock.ts';
import { Connections } from '../controllers/connections.ts';
import { describeChange } from '../controllers/describe.ts';
import { readWorld } from '../controllers/world.ts';
import { planSystemPass, type SystemPass } from '../engine/index.ts';
import { ManifestDirectory } from '../manifests/directory.ts';
import { createLogger } from '../process/logger.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { keyOf, keyString, type Store } from '../store/store.ts';
import type { Output } from './output.ts';

const SYMBOL: Record<AccountChange['op'], string> = { create: '+', grant: '+', enable: '+', update: '~', revoke: '-', disable: '-', delete: '-' };

export type SystemPlanResult = { system: ConnectedSystem; suspended: true } | { system: ConnectedSystem; pass: SystemPass } | { system: ConnectedSystem; error: string };

/** Observes every connected system in the store and plans its pass. Changes nothing. */
export async function planAll(store: Store, connections: Connections, clock: Clock): Promise<SystemPlanResult[]> {
  const results: SystemPlanResult[] = [];
  for (const system of store.list('ConnectedSystem')) {
    const { namespace } = keyOf(system);
    if (system.spec.suspend) {
      results.push({ system, suspended: true });
      continue;
    }
    try {
      const pass = await connections.use(system, async (connector) => {
        const signal = AbortSignal.timeout(60_000);
        const listing = [];
        for await (const account of connector.listAccounts(signal)) listing.push(account);
        const users = store.list('User', namespace);
        const recent = system.status?.recentDeprovisions ?? [];
        return planSystemPass({ system, users, world: readWorld(store, namespace), listing, capabilities: connector.capabilities, recent, now: clock.now() });
      });
      results.push({ system, pass });
    } catch (error) {
      results.push({ system, error: errorMessage(error) });
    }
  }
  return results;
}

export async function planCommand(dir: string, out: Output, clock: Clock = systemClock): Promise<number> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });
  const store = new MemoryStore([], { logger, clock });
  new ManifestDirectory(dir, store, { watch: false, logger }).load();
  await store.start();
  const connections = new Connections({ store, logger, timeoutMs: 10_000 });
  let results: SystemPlanResult[];
  try {
    results = await planAll(store, connections, clock);
  } finally {
    await connections.closeAll();
    await store.stop();
  }
  let pending = 0;
  let failed = 0;
  for (const result of results) {
    out.line(`ConnectedSystem ${keyString(keyOf(result.system))} (${result.system.spec.type})`);
    if ('suspended' in result) out.line('  suspended: no changes planned\n');
    else if ('error' in result) {
      failed++;
      out.line(`  error: ${result.error}\n`);
    } else {
      printPass(result.pass, out);
      pending += result.pass.changes.length + result.pass.held.length;
    }
  }
  if (failed) return 1;
  out.line(pending ? `${pending} change(s) pending.` : 'No changes. Every connected system matches the declared state.');
  return pending ? 2 : 0;
}

function printPass(pass: SystemPass, out: Output): void {
  const { orphans } = pass.orphans;
  const width = Math.max(8, ...[...pass.changes, ...pass.held].map((c) => changeUserName(c).length), ...orphans.map((o) => o.userName.length));
  for (const change of pass.changes) out.line(`  ${SYMBOL[change.op]} ${changeUserName(change).padEnd(width)}  ${describeChange(change)}`);
  for (const change of pass.held) out.line(`  ${SYMBOL[change.op]} ${changeUserName(change).padEnd(width)}  ${describeChange(change)} (held by the deletion guard)`);
  for (const orphan of orphans) out.line(`  ! ${orphan.userName.padEnd(width)}  orphan: no User declares it (policy: ${pass.system.spec.orphans})`);
  if (pass.guard.verdict.tripped) out.line(`  deletion guard: ${pass.guard.verdict.message}`);
  const count = (ops: AccountChange['op'][]) => pass.changes.filter((c) => ops.includes(c.op)).length;
  out.line(
    `  Plan: ${count(['create'])} to create, ${count(['update'])} to update, ${count(['grant'])} to grant, ${count(['revoke'])} to revoke, ${count(['disable'])} to disable, ${count(['enable'])} to enable, ${count(['delete'])} to delete${pass.held.length ? `; ${pass.held.length} held` : ''}.\n`,
  );
}
