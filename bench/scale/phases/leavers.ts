// 3. Leaver latency at steady state: `spec.state: terminated` patched through the API server, the
// clock stopped when the account is disabled in every system (each polled directly, every PROBE_PAUSE_MS).
// One at a time (the next waits for the previous), then a burst patched all at once.
import type { Context } from '../context.ts';
import { now, PROBE_PAUSE_MS, sleep, summary } from '../pool.ts';
import type { SystemKind } from '../world.ts';

export interface LatencyResult {
  /** Milliseconds per leaver, API write → disabled in every system. */
  ms: number[];
  stats: ReturnType<typeof summary>;
  /** API write → disabled in that system: which system the slow ones wait for. */
  perSystem: Partial<Record<SystemKind, ReturnType<typeof summary>>>;
  /** Leavers not disabled everywhere within the timeout. */
  timedOut: number;
}

const TERMINATE = { spec: { state: 'terminated' } };

async function terminate(ctx: Context, name: string): Promise<number> {
  const at = now();
  await ctx.kube.patch('User', ctx.scope.namespace, name, TERMINATE);
  ctx.declared.people.get(name)!.terminated = true;
  return at;
}

/** Polls every system until each name is disabled in all of them; returns when each was first seen so. */
async function disabledEverywhere(
  ctx: Context,
  names: string[],
  timeoutMs: number,
  pauseMs: number,
): Promise<{ done: Map<string, number>; seen: Map<SystemKind, Map<string, number>> }> {
  const seen = new Map(ctx.scope.systems.map((kind) => [kind, new Map<string, number>()]));
  const deadline = now() + timeoutMs;
  const pending = () => names.filter((name) => [...seen.values()].some((bySystem) => !bySystem.has(name)));
  while (pending().length > 0 && now() < deadline) {
    await Promise.all(
      ctx.scope.systems.map(async (kind) => {
        const bySystem = seen.get(kind)!;
        const waiting = names.filter((name) => !bySystem.has(name));
        if (waiting.length === 0) return;
        const disabled = await ctx.probes.all[kind].disabled(waiting);
        const at = now();
        for (const name of disabled) bySystem.set(name, at);
      }),
    );
    if (pauseMs) await sleep(pauseMs);
  }
  const done = new Map<string, number>();
  for (const name of names) {
    const times = [...seen.values()].map((bySystem) => bySystem.get(name));
    if (times.every((t) => t !== undefined)) done.set(name, Math.max(...(times as number[])));
  }
  return { done, seen };
}

function perSystem(ctx: Context, samples: { seen: Map<SystemKind, Map<string, number>>; started: Map<string, number> }[]): LatencyResult['perSystem'] {
  const out: LatencyResult['perSystem'] = {};
  for (const kind of ctx.scope.systems) {
    const ms = samples.flatMap(({ seen, started }) => [...seen.get(kind)!].map(([name, at]) => at - started.get(name)!));
    out[kind] = summary(ms);
  }
  return out;
}

/** At most `budgetMs` in all: leavers not started by then are left out (and counted as timed out). */
export async function sequentialLeavers(ctx: Context, names: string[], budgetMs = 600_000): Promise<LatencyResult> {
  const ms: number[] = [];
  const samples: Parameters<typeof perSystem>[1] = [];
  let timedOut = 0;
  const deadline = now() + budgetMs;
  for (const name of names) {
    if (now() > deadline) {
      timedOut++;
      continue;
    }
    const at = await terminate(ctx, name);
    const { done, seen } = await disabledEverywhere(ctx, [name], 60_000, PROBE_PAUSE_MS);
    samples.push({ seen, started: new Map([[name, at]]) });
    if (!done.has(name)) timedOut++;
    else ms.push(done.get(name)! - at);
  }
  return { ms, stats: summary(ms), perSystem: perSystem(ctx, samples), timedOut };
}

export async function burstLeavers(ctx: Context, names: string[]): Promise<LatencyResult> {
  const started = new Map<string, number>();
  await Promise.all(names.map(async (name) => started.set(name, await terminate(ctx, name))));
  const { done, seen } = await disabledEverywhere(ctx, names, 180_000, PROBE_PAUSE_MS);
  const ms = names.filter((name) => done.has(name)).map((name) => done.get(name)! - started.get(name)!);
  return { ms, stats: summary(ms), perSystem: perSystem(ctx, [{ seen, started }]), timedOut: names.length - ms.length };
}
