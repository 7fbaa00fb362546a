// `rollcall plan -f DIR`: what Rollcall would change in each connected system, like `terraform plan`.
// Observes the real systems, changes nothing. Exit 0: nothing to do; 2: changes pending; 1: error.
import { changeUserName, errorMessage, type AccountChange } from '../api/index.ts';
import { Connections } from '../controllers/connections.ts';
import { describeChange } from '../controllers/describe.ts';
import { planSystem, type SystemPlan } from '../controllers/plan-system.ts';
import { readWorld } from '../controllers/world.ts';
import { systemClock, type Clock } from '../clock/clock.ts';
import { ManifestDirectory } from '../manifests/directory.ts';
import { createLogger } from '../process/logger.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { keyOf, keyString } from '../store/store.ts';
import type { Output } from './output.ts';

const SYMBOL: Record<AccountChange['op'], string> = { create: '+', grant: '+', enable: '+', update: '~', revoke: '-', disable: '-', delete: '-' };

export async function planCommand(dir: string, out: Output, clock: Clock = systemClock): Promise<number> {
  const now = clock.now();
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });
  const store = new MemoryStore([], { logger });
  new ManifestDirectory(dir, store, { watch: false, logger }).load();
  await store.start();
  const connections = new Connections({ store, logger, timeoutMs: 10_000 });
  let pending = 0;
  let failed = 0;
  try {
    for (const system of store.list('ConnectedSystem')) {
      const { namespace } = keyOf(system);
      out.line(`ConnectedSystem ${keyString(keyOf(system))} (${system.spec.type})`);
      if (system.spec.suspend) {
        out.line('  suspended: no changes planned\n');
        continue;
      }
      let plan: SystemPlan;
      try {
        plan = await connections.use(system, async (connector) => {
          const signal = AbortSignal.timeout(60_000);
          const observed = [];
          for await (const account of connector.listAccounts(signal)) observed.push(account);
          return planSystem(system, store.list('User', namespace), readWorld(store, namespace), observed, connector.capabilities, now);
        });
      } catch (error) {
        failed++;
        out.line(`  error: ${errorMessage(error)}\n`);
        continue;
      }
      printPlan(plan, out);
      pending += plan.changes.length;
    }
  } finally {
    await connections.closeAll();
    await store.stop();
  }
  if (failed) return 1;
  out.line(pending ? `${pending} change(s) pending.` : 'No changes. Every connected system matches the declared state.');
  return pending ? 2 : 0;
}

function printPlan(plan: SystemPlan, out: Output): void {
  const width = Math.max(8, ...plan.changes.map((c) => changeUserName(c).length), ...plan.orphans.map((o) => o.userName.length));
  for (const change of plan.changes) out.line(`  ${SYMBOL[change.op]} ${changeUserName(change).padEnd(width)}  ${describeChange(change)}`);
  for (const orphan of plan.orphans) out.line(`  ! ${orphan.userName.padEnd(width)}  orphan: no User declares it (policy: ${plan.system.spec.orphans})`);
  if (plan.guard.tripped) out.line(`  deletion guard: ${plan.guard.message}`);
  const count = (ops: AccountChange['op'][]) => plan.changes.filter((c) => ops.includes(c.op)).length;
  out.line(
    `  Plan: ${count(['create'])} to create, ${count(['update'])} to update, ${count(['grant'])} to grant, ${count(['revoke'])} to revoke, ${count(['disable'])} to disable, ${count(['enable'])} to enable, ${count(['delete'])} to delete.\n`,
  );
}
