// Leaver latency: with every User converged, one User's spec says `state: terminated`; how long until
// its account is disabled (entitlements revoked first) in every system. Compared with a periodic
// job that would pick the change up on its next 40-minute cycle.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AppliedChanges } from '../src/controllers/context.ts';
import { createWorkspace, fingerprint, startManager } from './embedded.ts';
import { formatMs, median, type Row } from './measure.ts';
import { SYSTEM_NAMES, userInput, userName } from './world.ts';

const PERIODIC_CYCLE_MS = 40 * 60 * 1000;

export interface LeaverResult {
  rows: Row[];
  /** Median ms from the manifest edit to the account disabled everywhere. */
  medianMs: number;
  cycleRatio: number;
}

export async function leaverBenchmark(count: number, leavers: number): Promise<LeaverResult> {
  const workspace = createWorkspace(count);
  let waiting: { user: string; systems: Set<string>; done: () => void } | undefined;
  const onApplied = (applied: AppliedChanges) => {
    if (applied.user !== waiting?.user || !applied.descriptions.includes('disable account')) return;
    waiting.systems.delete(applied.system);
    if (waiting.systems.size === 0) waiting.done();
  };
  const { store, directory, manager } = await startManager(workspace.manifests, onApplied);
  try {
    await manager.idle();
    const before = fingerprint(workspace.databases);
    let storeUpdatedAt = 0;
    store.watch('User', (event, user) => {
      if (event === 'update' && user.metadata.name === waiting?.user && user.spec.state === 'terminated' && storeUpdatedAt === 0)
        storeUpdatedAt = performance.now();
    });

    const fromEdit: number[] = [];
    const fromStore: number[] = [];
    const users = workspace.input.users;
    for (let k = 0; k < leavers; k++) {
      // Spread over departments; the earlier leavers stay terminated.
      const index = k * 37 + 11;
      users[index] = userInput(index, 'terminated');
      writeFileSync(join(workspace.manifests, 'users.yaml'), users.map((o) => JSON.stringify(o)).join('\n---\n') + '\n');
      const disabled = new Promise<void>((resolve) => (waiting = { user: userName(index), systems: new Set(SYSTEM_NAMES), done: resolve }));
      storeUpdatedAt = 0;
      // What the file watcher calls after its debounce (100 ms by default, not counted here).
      const editedAt = performance.now();
      directory.reload();
      await disabled;
      const doneAt = performance.now();
      fromEdit.push(doneAt - editedAt);
      fromStore.push(doneAt - storeUpdatedAt);
      await manager.idle();
    }

    const after = fingerprint(workspace.databases);
    if (after.disabled - before.disabled !== leavers * SYSTEM_NAMES.length) {
      throw new Error(`leaver: ${after.disabled - before.disabled} accounts disabled, expected ${leavers * SYSTEM_NAMES.length}`);
    }
    const medianMs = median(fromEdit);
    const cycleRatio = PERIODIC_CYCLE_MS / medianMs;
    return {
      medianMs,
      cycleRatio,
      rows: [
        {
          benchmark: 'leaver',
          case: `manifest reload → disabled in 3 systems (${count.toLocaleString('en')} Users converged)`,
          median: formatMs(medianMs),
          detail: `${Math.round(cycleRatio).toLocaleString('en')}× faster than a 40-minute cycle (${Math.round(cycleRatio / 2).toLocaleString('en')}× its 20-minute average wait); n=${leavers}`,
        },
        {
          benchmark: 'leaver',
          case: `store update event → disabled in 3 systems`,
          median: formatMs(median(fromStore)),
          detail: `the reconcile alone: queue, desiredAccounts, revokes + disable in each file; n=${leavers}`,
        },
      ],
    };
  } finally {
    await manager.stop();
    workspace.remove();
  }
}
