// spec.allowedEntitlements: glob patterns ("*" any run of characters, "?" exactly one, everything
// else literal, the whole entitlement matched). A system with the list grants only what one of
// them matches; without it, every entitlement its AccessRoles name.
import type { ConnectedSystem, RefusedEntitlement } from '../api/index.ts';

const compiled = new Map<string, RegExp>();

/** The glob as an anchored regular expression, every other character escaped. */
export function globPattern(glob: string): RegExp {
  let pattern = compiled.get(glob);
  if (!pattern) {
    const body = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'))).join('');
    pattern = new RegExp(`^${body}$`, 'su');
    compiled.set(glob, pattern);
  }
  return pattern;
}

/** Splits entitlements into those the system's allowedEntitlements admit and those it refuses. */
export function splitAllowed(system: Pick<ConnectedSystem, 'spec'>, entitlements: readonly string[]): { allowed: string[]; refused: RefusedEntitlement[] } {
  const patterns = system.spec.allowedEntitlements;
  if (patterns === undefined) return { allowed: [...entitlements], refused: [] };
  const allowed: string[] = [];
  const refused: RefusedEntitlement[] = [];
  for (const entitlement of entitlements) {
    if (patterns.some((glob) => globPattern(glob).test(entitlement))) allowed.push(entitlement);
    else refused.push({ entitlement, reason: `not matched by spec.allowedEntitlements (${patterns.join(', ')})` });
  }
  return { allowed, refused };
}
