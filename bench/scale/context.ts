// What every phase of a scale run shares: the world, the API server, the rollcall process, and the
// systems read directly.
import type { Kube, ReadinessWatch, UserObject } from './kube.ts';
import type { Probes } from './probes/index.ts';
import type { RollcallProcess } from './rollcall.ts';
import { userName, type Declared, type Scope } from './world.ts';

export interface Context {
  users: number;
  scope: Scope;
  kube: Kube;
  rollcall: RollcallProcess;
  probes: Probes;
  declared: Declared;
  readiness: ReadinessWatch;
  log(line: string): void;
}

/** Ready=True, SYSTEMS n/n, and the status is about the current generation. */
export function isReady(systems: number) {
  return (user: UserObject): boolean => {
    const status = user.status;
    return (
      status?.systems === `${systems}/${systems}` &&
      status.observedGeneration === user.metadata.generation &&
      (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
    );
  };
}

/**
 * `count` distinct users spread over the population (a prime stride), skipping `taken` (earlier
 * phases' picks), so leavers, expiring bindings and out-of-band changes hit different people.
 */
export function pickUsers(ctx: Context, count: number, taken: Set<string>): string[] {
  const out: string[] = [];
  for (let k = 0; k < ctx.users && out.length < count; k++) {
    const name = userName(ctx.scope, (k * 7919 + 1) % ctx.users);
    if (taken.has(name)) continue;
    taken.add(name);
    out.push(name);
  }
  return out;
}

/** How many of a phase's operations (100 at 1,000 Users and more, a tenth of the Users below). */
export function phaseSize(users: number): number {
  return Math.min(100, Math.max(1, Math.floor(users / 10)));
}
