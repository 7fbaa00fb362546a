// 1. Convergence: N Users created through the API server (32 requests in flight); the clock runs from
// the first create request until every User is Ready (SYSTEMS n/n), and per system until the system
// itself, polled directly, holds every account with its groups.
import type { Context } from '../context.ts';
import { requestDelta } from '../kube.ts';
import { matching } from '../probes/index.ts';
import { now, sleep } from '../pool.ts';
import { metricSum } from '../rollcall.ts';
import { userObject, type SystemKind } from '../world.ts';

export const APPLY_CONCURRENCY = 32;

export interface ConvergenceResult {
  /** Creating the N Users (the apply itself). */
  applyMs: number;
  /** First User applied → every User Ready; null when the timeout came first. */
  convergeMs: number | null;
  ready: number;
  /** First User applied → the system held every account with its groups (polled; resolution: one poll). */
  perSystemMs: Partial<Record<SystemKind, number | null>>;
  /** Accounts each system held as declared at its last poll (N once converged). */
  perSystemAccounts: Partial<Record<SystemKind, number>>;
  userReconciles: number;
  apiRequests: Record<string, number>;
  cpuSeconds: number;
  connectorOps: number;
}

export async function convergence(ctx: Context, timeoutMs: number): Promise<ConvergenceResult> {
  const expected = ctx.declared.expected(ctx.scope);
  const requestsBefore = ctx.kube.requestCounts();
  const metricsBefore = await ctx.rollcall.metrics();
  const cpuBefore = ctx.rollcall.stats().cpuSeconds;
  const users = Array.from({ length: ctx.users }, (_, i) => userObject(ctx.scope, i));

  const perSystemMs: ConvergenceResult['perSystemMs'] = {};
  const perSystemAccounts: ConvergenceResult['perSystemAccounts'] = {};
  let stop = false;
  let startedAt = now();
  const poll = async (kind: SystemKind) => {
    perSystemMs[kind] = null;
    while (!stop) {
      const at = now();
      const found = matching(expected, await ctx.probes.all[kind].accounts().catch(() => new Map()));
      perSystemAccounts[kind] = found;
      if (found === ctx.users) {
        perSystemMs[kind] = now() - startedAt;
        ctx.log(`  ${kind}: every account with its groups after ${((now() - startedAt) / 1000).toFixed(1)} s`);
        return;
      }
      await sleep(Math.max(500, 2 * (now() - at)));
    }
  };

  const apply = ctx.kube.createAll(users, APPLY_CONCURRENCY);
  startedAt = now();
  const pollers = ctx.scope.systems.map(poll);
  const { startedAt: firstAt, doneAt } = await apply;
  startedAt = firstAt;
  ctx.log(`  applied ${ctx.users} Users in ${((doneAt - firstAt) / 1000).toFixed(1)} s`);
  const progress = setInterval(
    () => ctx.log(`  ... ${ctx.readiness.readyAt.size}/${ctx.users} Ready after ${((now() - firstAt) / 1000).toFixed(0)} s`),
    30_000,
  );
  const allReady = await ctx.readiness.until(() => ctx.readiness.readyAt.size >= ctx.users, Math.max(0, timeoutMs - (now() - firstAt)));
  clearInterval(progress);
  const lastReady = Math.max(...ctx.readiness.readyAt.values());
  // The systems may trail the status by a poll: give the pollers a little longer, then stop them.
  await Promise.race([Promise.all(pollers), sleep(allReady ? 60_000 : 0)]);
  stop = true;
  await Promise.all(pollers);

  const metricsAfter = await ctx.rollcall.metrics();
  const delta = (name: string, match: Record<string, string> = {}) => metricSum(metricsAfter, name, match) - metricSum(metricsBefore, name, match);
  return {
    applyMs: doneAt - firstAt,
    convergeMs: allReady ? lastReady - firstAt : null,
    ready: ctx.readiness.readyAt.size,
    perSystemMs,
    perSystemAccounts,
    userReconciles: delta('controller_runtime_reconcile_total', { controller: 'user' }),
    apiRequests: requestDelta(requestsBefore, ctx.kube.requestCounts()),
    cpuSeconds: ctx.rollcall.stats().cpuSeconds - cpuBefore,
    connectorOps: delta('rollcall_connector_operations_total'),
  };
}
