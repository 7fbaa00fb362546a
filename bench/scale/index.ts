// `npm run bench -- --scale [--users N]`: Rollcall against the real API server and real systems at
// scale, in one run: raw baseline, the API server's own floor, convergence, leavers, expiry, idle
// resync, out-of-band changes, memory, API requests, then the standalone path; every account checked
// at the end; results in bench/results/scale-<date>-N<N>.{json,md}. Everything started is stopped,
// also after a failure.
import { loadavg } from 'node:os';
import type { ControlPlane } from '../../test/servers/controlplane.ts';
import { isReady, phaseSize, pickUsers, type Context } from './context.ts';
import { Kube } from './kube.ts';
import { APPLY_CONCURRENCY, convergence } from './phases/convergence.ts';
import { outOfBand } from './phases/drift.ts';
import { expiringBindings } from './phases/expiry.ts';
import { apiServerFloor } from './phases/floor.ts';
import { idleResync } from './phases/idle.ts';
import { burstLeavers, sequentialLeavers } from './phases/leavers.ts';
import { settle, setResyncInterval, waitConnected, windowsEmpty } from './phases/steady.ts';
import { standalone } from './phases/standalone.ts';
import { openProbes, mismatches, type Probes } from './probes/index.ts';
import { now } from './pool.ts';
import { endpointsOf, rawBaseline } from './raw.ts';
import { writeReport, type ScaleResults } from './report.ts';
import { metricSum, RollcallProcess } from './rollcall.ts';
import { startControlPlaneWithCrds, startSystems, type Systems } from './servers.ts';
import { allGroups, connectedSystems, Declared, rolesAndBindings, secrets, SYSTEMS, type Scope, type SystemKind } from './world.ts';

export interface ScaleOptions {
  users: number;
  systems: SystemKind[];
  /** Longest wait for convergence (and for the standalone run). */
  convergeTimeoutMs: number;
  command: string;
  /** The phases after convergence to run (all when not given): a quicker run while working on one figure. */
  phases: Set<LaterPhase>;
}

/** The phases `--phases` can pick; the raw baseline, the API server floor and convergence always run. */
export const LATER_PHASES = ['sequential', 'burst', 'expiry', 'idle', 'drift', 'standalone'] as const;
type LaterPhase = (typeof LATER_PHASES)[number];

const RESYNC_SHORT = '30s';
const RESYNC_SHORT_MS = 30_000;

export function parseScaleOptions(argv: string[]): ScaleOptions {
  const value = (flag: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const users = Number(value('--users') ?? 1000);
  if (!Number.isInteger(users) || users < 10) throw new Error('--users takes a whole number of at least 10');
  const systems = (value('--systems') ?? SYSTEMS.join(',')).split(',') as SystemKind[];
  if (systems.some((s) => !SYSTEMS.includes(s))) throw new Error(`--systems takes a comma-separated subset of ${SYSTEMS.join(',')}`);
  const timeout = Number(value('--converge-timeout') ?? Math.max(600, users * 0.3));
  const phases = (value('--phases') ?? LATER_PHASES.join(',')).split(',').filter(Boolean) as LaterPhase[];
  if (phases.some((p) => !LATER_PHASES.includes(p))) throw new Error(`--phases takes a comma-separated subset of ${LATER_PHASES.join(',')}`);
  return {
    users,
    systems,
    convergeTimeoutMs: timeout * 1000,
    command: `npm run bench -- --scale ${argv.join(' ')}`,
    phases: new Set(phases),
  };
}

export async function scaleBenchmark(options: ScaleOptions): Promise<ScaleResults> {
  const started = now();
  const results: ScaleResults = {
    users: options.users,
    systems: options.systems,
    command: options.command,
    startedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    failures: [],
    notes: [],
    loadAtStart: loadavg().map((l) => Number(l.toFixed(2))),
  };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const cleanup: (() => Promise<unknown>)[] = [];
  const phase = async <T>(name: string, run: () => Promise<T>, wanted?: LaterPhase): Promise<T | undefined> => {
    if (wanted && !options.phases.has(wanted)) return undefined;
    // The monotonic clock in microseconds, which a --cpu-prof profile's timestamps use: a profile of
    // the rollcall process (ROLLCALL_SCALE_NODE_ARGS) can be cut to one phase.
    log(`${name}... (monotonic ${monotonicMicros()} µs)`);
    const at = now();
    try {
      const result = await run();
      log(`${name}: ${((now() - at) / 1000).toFixed(1)} s (monotonic ${monotonicMicros()} µs)`);
      return result;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log(`${name} failed: ${reason}`);
      results.failures.push({ phase: name, reason });
      return undefined;
    }
  };
  // Ctrl-C still stops the servers and the rollcall process.
  const interrupted = () => void runCleanup().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  const runCleanup = async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch((error: unknown) => log(`cleanup: ${String(error)}`));
  };

  try {
    results.raw = await phase('2 raw baseline (fresh servers)', () => rawBaseline(options.users, options.systems));

    const setup = await phase('starting the control plane, slapd, PostgreSQL, SCIM', async () => {
      const [controlPlane, systems] = await Promise.all([startControlPlaneWithCrds(), startSystems()]);
      return { controlPlane, systems };
    });
    if (!setup) return results;
    cleanup.push(
      () => setup.controlPlane.stop(),
      () => setup.systems.close(),
    );
    const ctx = await phase('declaring the world and starting rollcall run', () =>
      declareWorld(options, setup.controlPlane, setup.systems, cleanup, results.notes),
    );
    if (!ctx) return results;

    // Rollcall is running (idle: no Users in its namespace yet), so its User workers can be read.
    results.floor = await phase('2 API server floor', async () =>
      apiServerFloor(ctx.kube, options.systems, options.users, { create: APPLY_CONCURRENCY, status: await userWorkers(ctx) }),
    );
    results.convergence = await phase('1 convergence', () => convergence(ctx, options.convergeTimeoutMs));
    const converged = results.convergence?.convergeMs !== null && results.convergence !== undefined;
    if (converged) {
      const size = phaseSize(options.users);
      const taken = new Set<string>();
      const [sequential, burst, expiring, drifting] = [
        pickUsers(ctx, size, taken),
        pickUsers(ctx, size, taken),
        pickUsers(ctx, size, taken),
        pickUsers(ctx, size, taken),
      ];
      await ctx.probes.scim.accounts().catch(() => undefined); // learns the SCIM ids the tight polls use
      results.leaversSequential = await phase('3 leavers, one at a time', () => sequentialLeavers(ctx, sequential), 'sequential');
      results.leaversBurst = await phase('3 leavers, a burst', () => burstLeavers(ctx, burst), 'burst');
      results.expiry = await phase('4 expiring bindings', () => expiringBindings(ctx, expiring, 30_000 + options.users * 3), 'expiry');
      results.idle = await phase(
        '5 idle resync',
        async () => {
          await setResyncInterval(ctx, RESYNC_SHORT);
          const { settled, settledMs } = await settle(ctx, 5 * 60_000);
          // The deletion guard's window still holds the leavers and expiries above: its entries age out
          // within a resyncInterval, and the status write that drops them is work, not idle churn.
          await windowsEmpty(ctx, 2 * RESYNC_SHORT_MS + 10_000);
          return { ...(await idleResync(ctx, 2 * RESYNC_SHORT_MS + 5000)), settled, settledMs };
        },
        'idle',
      );
      results.drift = await phase(
        '6 out-of-band changes',
        async () => ({
          ...(await outOfBand(ctx, drifting, 4 * RESYNC_SHORT_MS + options.users * 30)),
          resyncIntervalMs: RESYNC_SHORT_MS,
        }),
        'drift',
      );
    } else {
      results.failures.push({ phase: '3-6', reason: 'not run: the Users did not converge' });
    }
    await phase('check: every account in every system', async () => {
      const expected = ctx.declared.expected(ctx.scope);
      results.verification = {};
      for (const kind of options.systems) results.verification[kind] = mismatches(expected, await ctx.probes.all[kind].accounts());
    });
    const stats = ctx.rollcall.stats();
    const metrics = await ctx.rollcall.metrics().catch(() => new Map<string, number>());
    results.process = {
      ...stats,
      heapUsedBytes: metricSum(metrics, 'nodejs_heap_size_used_bytes'),
      heapTotalBytes: metricSum(metrics, 'nodejs_heap_size_total_bytes'),
      externalBytes: metricSum(metrics, 'nodejs_external_memory_bytes'),
      warnings: Object.fromEntries(ctx.rollcall.messages),
    };
    await ctx.readiness.stop();
    await ctx.rollcall.stop();

    results.standalone = await phase(
      '9 standalone: rollcall run --manifests DIR --once',
      () => standalone(endpointsOf(setup.systems), options.users, options.systems, options.convergeTimeoutMs),
      'standalone',
    );
    return results;
  } finally {
    await runCleanup();
    process.off('SIGINT', interrupted);
    results.totalSeconds = (now() - started) / 1000;
    const files = writeReport(results);
    log(`written to ${files.markdown} and ${files.json}`);
  }
}

function monotonicMicros(): string {
  return (process.hrtime.bigint() / 1000n).toString();
}

/** How many User reconciles Rollcall runs at once (its controller_runtime_max_concurrent_reconciles). */
async function userWorkers(ctx: Context): Promise<number> {
  const workers = metricSum(await ctx.rollcall.metrics(), 'controller_runtime_max_concurrent_reconciles', { controller: 'user' });
  if (!(workers > 0)) throw new Error('rollcall reports no controller_runtime_max_concurrent_reconciles for its User controller');
  return workers;
}

async function declareWorld(
  options: ScaleOptions,
  controlPlane: ControlPlane,
  systems: Systems,
  cleanup: (() => Promise<unknown>)[],
  notes: string[],
): Promise<Context> {
  const scope: Scope = { tag: 'u', namespace: 'scale', systems: options.systems };
  const endpoints = endpointsOf(systems);
  const kube = new Kube(controlPlane.kubeconfig);
  await kube.createNamespace(scope.namespace);
  const probes: Probes = openProbes(endpoints, scope);
  cleanup.push(() => probes.close());
  await Promise.all(options.systems.map((kind) => probes.all[kind].prepare(allGroups(scope))));
  // A guard that cannot trip (maxCount = N) still runs its decision on every deprovision.
  const policy = { resyncInterval: '5m', deletionGuard: { maxCount: options.users } };
  for (const object of [...secrets(scope, endpoints), ...connectedSystems(scope, endpoints, policy), ...rolesAndBindings(scope)]) await kube.create(object);
  const readiness = kube.watchUsers(scope.namespace, isReady(options.systems.length));
  await readiness.start();
  cleanup.push(() => readiness.stop());
  const rollcall = await RollcallProcess.start(controlPlane.kubeconfig, scope.namespace);
  cleanup.push(() => rollcall.stop());
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const ctx: Context = { users: options.users, scope, kube, rollcall, probes, declared: new Declared(scope, options.users), readiness, log };
  const lost = await waitConnected(ctx, 120_000);
  if (lost.length)
    notes.push(
      `ConnectedSystem status without its Connected condition after the first reconcile: ${lost.join(', ')} (a second status write, computed from a stale cache, replaced the first)`,
    );
  return ctx;
}
