// 6. Out-of-band changes: group memberships granted by hand (LDAP member, PostgreSQL GRANT, SCIM
// group PATCH), spread over the systems; the clock stops for each when the system no longer holds
// it, and for the phase when all are corrected. Correction waits for a resync, so resyncInterval
// bounds it from below.
import type { Context } from '../context.ts';
import { now, sleep, summary } from '../pool.ts';
import { DEPARTMENTS, departmentGroups, type SystemKind } from '../world.ts';

export interface DriftResult {
  changes: number;
  /** Out-of-band change → seen corrected, per change. */
  ms: number[];
  stats: ReturnType<typeof summary>;
  /** First change → last one corrected. */
  allCorrectedMs: number | null;
  notCorrected: number;
}

interface Injected {
  kind: SystemKind;
  user: string;
  group: string;
  at: number;
}

export async function outOfBand(ctx: Context, names: string[], timeoutMs: number): Promise<DriftResult> {
  const injected: Injected[] = [];
  const started = now();
  for (const [k, user] of names.entries()) {
    const kind = ctx.scope.systems[k % ctx.scope.systems.length]!;
    const department = ctx.declared.people.get(user)!.department;
    const group = departmentGroups(ctx.scope, (department + 1) % DEPARTMENTS)[k % 2]!;
    const at = now();
    await ctx.probes.all[kind].grantByHand(user, group);
    injected.push({ kind, user, group, at });
  }
  const correctedAt = new Map<Injected, number>();
  const deadline = now() + timeoutMs;
  while (correctedAt.size < injected.length && now() < deadline) {
    const pending = injected.filter((i) => !correctedAt.has(i));
    const pairs = [...new Set(pending.map((i) => `${i.kind} ${i.group}`))];
    const members = new Map(
      await Promise.all(pairs.map(async (pair) => [pair, await ctx.probes.all[pair.split(' ')[0] as SystemKind].members(pair.split(' ')[1]!)] as const)),
    );
    const at = now();
    for (const i of pending) if (!members.get(`${i.kind} ${i.group}`)!.has(i.user)) correctedAt.set(i, at);
    await sleep(200);
  }
  const ms = [...correctedAt.entries()].map(([i, at]) => at - i.at);
  const allCorrected = correctedAt.size === injected.length;
  return {
    changes: injected.length,
    ms,
    stats: summary(ms),
    allCorrectedMs: allCorrected ? Math.max(...correctedAt.values()) - started : null,
    notCorrected: injected.length - correctedAt.size,
  };
}
