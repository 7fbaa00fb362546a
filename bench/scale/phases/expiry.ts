// 4. Expiry: AccessBindings (one User each, one extra group per system) all ending at the same
// instant. Once every grant is in place the clock waits for validUntil; the latency is from
// validUntil until the group has lost that User in every system (polled directly, every PROBE_PAUSE_MS).
import type { Context } from '../context.ts';
import { eachLimit, now, PROBE_PAUSE_MS, sleep, summary } from '../pool.ts';
import { temporaryBinding, temporaryGroup } from '../world.ts';

export interface ExpiryResult {
  ms: number[];
  stats: ReturnType<typeof summary>;
  /** ms between the last grant seen in place and validUntil: the test is only meaningful when > 0. */
  marginMs: number;
  /** Grants not in place everywhere before validUntil, and removals not seen within the timeout. */
  notGranted: number;
  timedOut: number;
}

export async function expiringBindings(ctx: Context, names: string[], leadMs: number): Promise<ExpiryResult> {
  const group = temporaryGroup(ctx.scope);
  // Wall clock: validUntil is a date the API server and Rollcall compare with their own clocks.
  const validUntilMs = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
  const validUntil = new Date(validUntilMs).toISOString().replace('.000Z', 'Z');
  const expiresAt = now() + (validUntilMs - Date.now());
  await eachLimit(names, 16, (name) => ctx.kube.create(temporaryBinding(ctx.scope, name, validUntil) as never));

  const members = async () => new Map(await Promise.all(ctx.scope.systems.map(async (kind) => [kind, await ctx.probes.all[kind].members(group)] as const)));
  // Granted everywhere?
  let granted = 0;
  let grantedAt = now();
  while (now() < expiresAt - 200) {
    const current = await members();
    granted = names.filter((name) => [...current.values()].every((set) => set.has(name))).length;
    grantedAt = now();
    if (granted === names.length) break;
    await sleep(100);
  }

  await sleep(Math.max(0, expiresAt - now() - 100));
  const removedAt = new Map<string, number>();
  const deadline = expiresAt + 120_000;
  while (removedAt.size < names.length && now() < deadline) {
    const current = await members();
    const at = now();
    for (const name of names) if (!removedAt.has(name) && [...current.values()].every((set) => !set.has(name))) removedAt.set(name, at);
    await sleep(PROBE_PAUSE_MS);
  }
  const ms = [...removedAt.values()].map((at) => Math.max(0, at - expiresAt));
  return { ms, stats: summary(ms), marginMs: expiresAt - grantedAt, notGranted: names.length - granted, timedOut: names.length - removedAt.size };
}
