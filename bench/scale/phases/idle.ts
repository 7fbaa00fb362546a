// 5. Idle resync cost: everything converged, resyncInterval short; over two intervals, what the
// periodic resyncs write to the systems (entryCSN, xmin, meta.version) and to the API server
// (resourceVersion), what Rollcall says it sent (connector operations), what it asked of the API
// server (apiserver_request_total), and its CPU seconds. The target is 0 writes.
import type { Context } from '../context.ts';
import { requestDelta } from '../kube.ts';
import { sleep } from '../pool.ts';
import { metricSum } from '../rollcall.ts';
import type { SystemKind } from '../world.ts';

export interface IdleResult {
  windowMs: number;
  systemWrites: Partial<Record<SystemKind, number>>;
  apiWrites: number;
  /** Which objects were written (at most 10 per system and for the API server). */
  written: Record<string, string[]>;
  connectorOps: number;
  userReconciles: number;
  systemReconciles: number;
  apiRequests: Record<string, number>;
  cpuSeconds: number;
}

function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [key, value] of after) if (before.get(key) !== value) out.push(key);
  for (const key of before.keys()) if (!after.has(key)) out.push(key);
  return out;
}

export async function idleResync(ctx: Context, windowMs: number): Promise<IdleResult> {
  const kinds = ['User', 'ConnectedSystem'];
  const versionsOf = async () => new Map(await Promise.all(ctx.scope.systems.map(async (kind) => [kind, await ctx.probes.all[kind].versions()] as const)));
  const systemsBefore = await versionsOf();
  const apiBefore = await ctx.kube.resourceVersions(kinds, ctx.scope.namespace);
  const requestsBefore = ctx.kube.requestCounts();
  const metricsBefore = await ctx.rollcall.metrics();
  const cpuBefore = ctx.rollcall.stats().cpuSeconds;

  await sleep(windowMs);

  const cpuSeconds = ctx.rollcall.stats().cpuSeconds - cpuBefore;
  const metricsAfter = await ctx.rollcall.metrics();
  const requestsAfter = ctx.kube.requestCounts();
  const systemsAfter = await versionsOf();
  const apiAfter = await ctx.kube.resourceVersions(kinds, ctx.scope.namespace);
  const delta = (name: string, match: Record<string, string> = {}) => metricSum(metricsAfter, name, match) - metricSum(metricsBefore, name, match);
  const systemWrites: IdleResult['systemWrites'] = {};
  const written: IdleResult['written'] = {};
  for (const kind of ctx.scope.systems) {
    const keys = changedKeys(systemsBefore.get(kind)!, systemsAfter.get(kind)!);
    systemWrites[kind] = keys.length;
    if (keys.length) written[kind] = keys.slice(0, 10);
  }
  const apiKeys = changedKeys(apiBefore, apiAfter);
  if (apiKeys.length) written.api = apiKeys.slice(0, 10);
  return {
    windowMs,
    systemWrites,
    written,
    apiWrites: apiKeys.length,
    connectorOps: delta('rollcall_connector_operations_total'),
    userReconciles: delta('controller_runtime_reconcile_total', { controller: 'user' }),
    systemReconciles: delta('controller_runtime_reconcile_total', { controller: 'connectedsystem' }),
    apiRequests: requestDelta(requestsBefore, requestsAfter),
    cpuSeconds,
  };
}
