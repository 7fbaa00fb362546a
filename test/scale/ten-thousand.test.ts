// A real company's size, in one process: 10,000 Users (ROLLCALL_SCALE_USERS to change it) over 10
// departments converge into two embedded directories, then 100 leavers arrive in one burst. Every
// account must end as declared (no leaver lost), and Rollcall must never hold the event loop for
// 100 ms or more, so no remote call's timeout can fire while its answer sits unread.
// A stall is measured as the CPU time the main thread spent between two turns of the loop (capped
// by the wall time): on a busy machine the loop also waits while the OS runs other processes, which
// monitorEventLoopDelay (reported too) cannot tell apart; on an idle one the two agree. GC helper
// threads and the I/O thread pool do not hold the loop and do not count. Correctness only: speed is measured by `npm run bench -- --scale`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
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
const LEAVERS = 100;
const DEPARTMENTS = 10;
const dir = mkdtempSync(join(tmpdir(), 'rollcall-scale-'));
const db = (name: string) => join(dir, `${name}.db`);
const leaver = (i: number) => i % Math.floor(USERS / LEAVERS) === 0 && i / Math.floor(USERS / LEAVERS) < LEAVERS;

function manifests(withLeavers: boolean): Manifest[] {
  const departments = Array.from({ length: DEPARTMENTS }, (_, d) => `dept${d}`);
  return [
    ...['directory', 'wiki'].map((system) => sqliteSystem(system, db(system), { deprovision: { policy: 'disable' } })),
    ...departments.flatMap((department) => [
      accessRole(department, { directory: [`${department}-a`, `${department}-b`], wiki: [`${department}-readers`, `${department}-editors`] }),
      accessBinding(department, { userSelector: { matchLabels: { department } } }),
    ]),
    ...Array.from({ length: USERS }, (_, i) =>
      user(
        { name: `u${i}`, labels: { department: departments[i % DEPARTMENTS]! }, creationTimestamp: JOINED },
        { state: withLeavers && leaver(i) ? 'terminated' : 'active' },
      ),
    ),
  ];
}

/** The most CPU time (ms) the main thread spent between two 5 ms ticks of the loop, at most the gap itself. */
function ownStalls(): { stop(): number } {
  let last = performance.now();
  let lastCpu = process.threadCpuUsage();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.threadCpuUsage(lastCpu);
    worst = Math.max(worst, Math.min(now - last, (cpu.user + cpu.system) / 1000));
    last = now;
    lastCpu = process.threadCpuUsage();
  }, 5);
  return {
    stop: () => {
      clearInterval(timer);
      return worst;
    },
  };
}

describe(`${USERS} Users, then ${LEAVERS} leavers at once`, () => {
  const logger = pino({ level: 'warn' });
  let manager: Manager | undefined;
  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('converges every account, lands every leaver, and never stalls the event loop for 100 ms', async () => {
    writeManifests(dir, 'company.yaml', manifests(false));
    const { store, directory } = storeFromManifests(dir, { logger });
    manager = new Manager({ store, logger });
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    let stalls = ownStalls();
    await manager.start();
    await manager.idle();
    const expectGroups = (system: string, suffixes: [string, string], leavers: boolean) => {
      const rows = describeDirectory(db(system));
      expect(rows).toHaveLength(USERS);
      const wrong = rows.filter((row) => {
        const i = Number(row.userName.slice(1));
        const gone = leavers && leaver(i);
        const want = gone ? [] : suffixes.map((s) => `dept${i % DEPARTMENTS}-${s}`).sort();
        return row.state !== (gone ? 'disabled' : 'present') || row.groups.join() !== want.join();
      });
      expect(wrong.map((r) => r.userName).slice(0, 10)).toEqual([]);
    };
    expectGroups('directory', ['a', 'b'], false);
    expectGroups('wiki', ['editors', 'readers'], false);

    // Re-reading a 10,000-document file is the test's input step, not Rollcall's work: not measured.
    delay.disable();
    const converging = { own: stalls.stop(), loop: delay.max / 1e6 };
    writeManifests(dir, 'company.yaml', manifests(true));
    directory.reload();
    delay.reset();
    delay.enable();
    stalls = ownStalls();
    await manager.idle();
    delay.disable();
    const leaving = { own: stalls.stop(), loop: delay.max / 1e6 };
    expectGroups('directory', ['a', 'b'], true);
    expectGroups('wiki', ['editors', 'readers'], true);
    const notReady = store.list('User').filter((u) => u.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True');
    expect(notReady.map((u) => u.metadata.name).slice(0, 10)).toEqual([]);
    expect(converging.own, `the longest stall of Rollcall's own while converging, in ms (event-loop delay: ${converging.loop.toFixed(0)} ms)`).toBeLessThan(
      100,
    );
    expect(leaving.own, `the longest stall of Rollcall's own while the leavers went, in ms (event-loop delay: ${leaving.loop.toFixed(0)} ms)`).toBeLessThan(
      100,
    );
  }, 600_000);
});
