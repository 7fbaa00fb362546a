// `rollcall run --manifests DIR --once` through the Manager, MemoryStore and sqlite connector:
// a cold converge into empty files, then passes over systems already in sync, which must write nothing.
import { formatMs, measure, type Row } from './measure.ts';
import { benchDirectory, createWorkspace, fingerprint, removeDatabases, runOnce, sameFingerprint, startManager, type Workspace } from './embedded.ts';

function expectConverged(result: Awaited<ReturnType<typeof runOnce>>, count: number): void {
  if (result.ready !== count || result.users !== count)
    throw new Error(`embedded: ${result.ready}/${result.users} Users Ready after converging, expected ${count}`);
}

async function coldConverge(
  workspace: Workspace,
  count: number,
  iterations: number,
  warmup: number,
): Promise<{ median: number; changes: number; distinct: number }> {
  let changes = 0;
  let distinct = 0;
  const samples = await measure(iterations, warmup, async () => {
    removeDatabases(workspace);
    const start = performance.now();
    const result = await runOnce(workspace.manifests);
    const elapsed = performance.now() - start;
    expectConverged(result, count);
    changes = result.applied.reduce((sum, a) => sum + a.descriptions.length, 0);
    distinct = new Set(result.applied.flatMap((a) => a.descriptions.map((d) => `${a.system} ${a.user} ${d}`))).size;
    return elapsed;
  });
  return { median: samples.median, changes, distinct };
}

/** The same change announced twice for one account: a second reconcile re-applied it (the sqlite step wrote nothing). */
function repeats(cold: { changes: number; distinct: number }): string {
  return cold.changes > cold.distinct ? ` (${cold.changes - cold.distinct} of them repeated, last run)` : '';
}

export async function embeddedBenchmark(userCounts: number[]): Promise<Row[]> {
  const rows: Row[] = [];
  const where = benchDirectory(false) === '/dev/shm' ? 'sqlite on tmpfs' : 'sqlite on disk';
  for (const count of userCounts) {
    const workspace = createWorkspace(count);
    try {
      const iterations = count >= 1000 ? 3 : 5;
      const cold = await coldConverge(workspace, count, iterations, count >= 1000 ? 0 : 1);
      const converged = fingerprint(workspace.databases);
      rows.push({
        benchmark: 'embedded',
        case: `cold converge, ${count.toLocaleString('en')} Users × 3 systems (${where})`,
        median: formatMs(cold.median),
        detail: `${formatMs(cold.median / count)} per User; ${cold.changes.toLocaleString('en')} changes applied${repeats(cold)}, ${converged.accounts} accounts; n=${iterations}`,
      });

      // A second `--once` process: loads the manifests, lists every system, reconciles every User.
      let rerunChanges = 0;
      const rerun = await measure(iterations, 0, async () => {
        const result = await runOnce(workspace.manifests);
        expectConverged(result, count);
        rerunChanges += result.applied.length;
      });
      const afterRerun = fingerprint(workspace.databases);
      if (rerunChanges !== 0 || !sameFingerprint(converged, afterRerun)) {
        throw new Error(
          `embedded: a re-run over systems in sync wrote (${rerunChanges} changes; ${JSON.stringify(converged)} → ${JSON.stringify(afterRerun)})`,
        );
      }
      rows.push({
        benchmark: 'embedded',
        case: `warm re-run --once (in sync), ${count.toLocaleString('en')} Users`,
        median: formatMs(rerun.median),
        detail: `${(cold.median / rerun.median).toFixed(1)}× faster than cold; writes: 0 (version sum ${afterRerun.versionSum} unchanged); n=${iterations}`,
      });

      // The periodic resync inside a running operator: every system listed, every User reconciled.
      const { manager, applied } = await startManager(workspace.manifests);
      await manager.idle();
      const resync = await measure(5, 1, async () => {
        await manager.requeueAll();
        await manager.idle();
      });
      await manager.stop();
      const afterResync = fingerprint(workspace.databases);
      if (applied.length !== 0 || !sameFingerprint(converged, afterResync)) {
        throw new Error(`embedded: a resync over systems in sync wrote (${applied.length} changes)`);
      }
      rows.push({
        benchmark: 'embedded',
        case: `warm resync in a running manager (in sync), ${count.toLocaleString('en')} Users`,
        median: formatMs(resync.median),
        detail: `${formatMs(resync.median / count)} per User; writes: 0 (version sum ${afterResync.versionSum} unchanged); n=5`,
      });
    } finally {
      workspace.remove();
    }
  }
  return rows;
}

/** The same cold converge with the files on the VM's disk, where every transaction is synced. */
export async function onDiskBenchmark(count: number, iterations: number): Promise<Row[]> {
  const workspace = createWorkspace(count, true);
  try {
    const cold = await coldConverge(workspace, count, iterations, 0);
    return [
      {
        benchmark: 'embedded',
        case: `cold converge, ${count.toLocaleString('en')} Users × 3 systems (sqlite on disk)`,
        median: formatMs(cold.median),
        detail: `${formatMs(cold.median / count)} per User; ${cold.changes.toLocaleString('en')} changes${repeats(cold)}, one synced transaction each; n=${iterations}`,
      },
    ];
  } finally {
    workspace.remove();
  }
}
