// Getting to, and waiting for, a steady state: systems connected, resyncInterval changed, work queues empty.
import type { Context } from '../context.ts';
import { now, sleep } from '../pool.ts';
import { metricSum } from '../rollcall.ts';

type Condition = { type: string; status: string };

/**
 * Every ConnectedSystem Connected. A system whose status was written for its generation without a
 * Connected condition (a later status write replaced it) counts after 5 s, and is returned so the
 * report can say so.
 */
export async function waitConnected(ctx: Context, timeoutMs: number): Promise<string[]> {
  const deadline = now() + timeoutMs;
  const lostSince = new Map<string, number>();
  for (;;) {
    const systems = await ctx.kube.list('ConnectedSystem', ctx.scope.namespace);
    const lost: string[] = [];
    let ready = 0;
    for (const system of systems) {
      const status = system.status as { observedGeneration?: number; conditions?: Condition[] } | undefined;
      const connected = status?.conditions?.find((c) => c.type === 'Connected');
      if (connected?.status === 'True') ready++;
      else if (!connected && status?.observedGeneration === system.metadata!.generation) {
        const since = lostSince.get(system.metadata!.name!) ?? now();
        lostSince.set(system.metadata!.name!, since);
        if (now() - since > 5000) {
          ready++;
          lost.push(system.metadata!.name!);
        }
      }
    }
    if (ready === ctx.scope.systems.length) return lost;
    if (now() > deadline)
      throw new Error(
        `ConnectedSystems not Connected within ${timeoutMs / 1000} s: ${JSON.stringify(systems.map((s) => [s.metadata!.name, s.status]))}\n${ctx.rollcall.tail()}`,
      );
    await sleep(500);
  }
}

export async function setResyncInterval(ctx: Context, interval: string): Promise<void> {
  const systems = await ctx.kube.list('ConnectedSystem', ctx.scope.namespace);
  for (const system of systems) await ctx.kube.patch('ConnectedSystem', ctx.scope.namespace, system.metadata!.name!, { spec: { resyncInterval: interval } });
}

/** Waits until no User or ConnectedSystem is queued or being reconciled for 3 samples in a row. */
export async function settle(ctx: Context, timeoutMs: number): Promise<{ settled: boolean; settledMs: number }> {
  const started = now();
  let quiet = 0;
  while (now() - started < timeoutMs) {
    await sleep(1000);
    const metrics = await ctx.rollcall.metrics();
    const busy =
      metricSum(metrics, 'workqueue_depth', { name: 'user' }) +
      metricSum(metrics, 'workqueue_depth', { name: 'connectedsystem' }) +
      metricSum(metrics, 'controller_runtime_active_workers', { controller: 'user' }) +
      metricSum(metrics, 'controller_runtime_active_workers', { controller: 'connectedsystem' });
    quiet = busy === 0 ? quiet + 1 : 0;
    if (quiet >= 3) return { settled: true, settledMs: now() - started };
  }
  return { settled: false, settledMs: now() - started };
}

/** Waits until no ConnectedSystem's status holds deprovisions in its guard window (at most `timeoutMs`). */
export async function windowsEmpty(ctx: Context, timeoutMs: number): Promise<boolean> {
  const started = now();
  while (now() - started < timeoutMs) {
    const systems = await ctx.kube.list('ConnectedSystem', ctx.scope.namespace);
    if (systems.every((system) => !((system.status as { recentDeprovisions?: unknown[] } | undefined)?.recentDeprovisions?.length ?? 0))) return true;
    await sleep(1000);
  }
  return false;
}
