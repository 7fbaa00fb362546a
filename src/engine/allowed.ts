// spec.allowedEntitlements: glob patterns ("*" any run of characters, "?" exactly one, everything
// else literal, the whole entitlement matched). A system with the list grants only what one of
// them matches; without it, every entitlement its AccessRoles name.
import type { ConnectedSystem, RefusedEntitlement } from '../api/index.ts';

import { matchesLinear } from './linear-regex.ts';

/**
 * The glob as an anchored RE2 pattern, every other character escaped. RE2, not RegExp: a glob such
 * as `*a*a*a*a*a*b` backtracks polynomially in JavaScript's engine, and systems are tenants' objects.
 */
export function globPattern(glob: string): string {
  return [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'))).join('');
}

/** The whole entitlement matches the glob. */
export function globMatches(glob: string, entitlement: string): boolean {
  return matchesLinear(entitlement, globPattern(glob));
}

/** Splits entitlements into those the system's allowedEntitlements admit and those it refuses. */
export function splitAllowed(system: Pick<ConnectedSystem, 'spec'>, entitlements: readonly string[]): { allowed: string[]; refused: RefusedEntitlement[] } {
  const patterns = system.spec.allowedEntitlements;
  if (patterns === undefined) return { allowed: [...entitlements], refused: [] };
  const allowed: string[] = [];
  const refused: RefusedEntitlement[] = [];
  for (const entitlement of entitlements) {
    if (patterns.some((glob) => globMatches(glob, entitlement))) allowed.push(entitlement);
    else refused.push({ entitlement, reason: `not matched by spec.allowedEntitlements (${patterns.join(', ')})` });
  }
  return { allowed, refused };
}
