// spec.allowedEntitlements: glob patterns ("*" any run of characters, "?" exactly one, everything
// else literal, the whole entitlement matched). A system with the list grants only what one of
// them matches; without it, every entitlement its AccessRoles name.
//
// Matched in the system's own terms (Capabilities.comparison.entitlementKey): slapd finds the group
// `admins` when asked for a fullwidth `ａdmins`, so the list must judge `ａdmins` as `admins`, or a
// look-alike would reach a group the list refuses, and `team-*` would refuse a `ＴＥＡＭ-x` that slapd
// grants as team-x. Both the name and the pattern's literal parts go through the key; "?" then stands
// for one character of the keyed name.
import type { RefusedEntitlement } from '../api/index.ts';
import { matchesLinear } from './linear-regex.ts';

/** How the system finds an entitlement; identity when it compares exactly. */
export type EntitlementKey = (entitlement: string) => string;

const exact: EntitlementKey = (entitlement) => entitlement;
// Noncharacters stand in for the wildcards while the pattern is keyed: a key (NFKD, case folding,
// space folding) leaves them alone, so "team *" keeps its space before the "*".
const ANY_RUN = '\uFDD0';
const ANY_ONE = '\uFDD1';

/**
 * The glob as an anchored RE2 pattern over keyed names, every other character escaped; undefined for a
 * glob that holds a stand-in itself (it cannot be told apart from a wildcard, so it matches nothing).
 * RE2, not RegExp: a glob such as `*a*a*a*a*a*b` backtracks polynomially in JavaScript's engine, and
 * systems are tenants' objects.
 */
export function globPattern(glob: string, key: EntitlementKey = exact): string | undefined {
  if (glob.includes(ANY_RUN) || glob.includes(ANY_ONE)) return undefined;
  const keyed = key(glob.replaceAll('*', ANY_RUN).replaceAll('?', ANY_ONE));
  return [...keyed].map((c) => (c === ANY_RUN ? '.*' : c === ANY_ONE ? '.' : c.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'))).join('');
}

/** The whole entitlement matches the glob, both judged through the system's key. */
export function globMatches(glob: string, entitlement: string, key: EntitlementKey = exact): boolean {
  const pattern = globPattern(glob, key);
  return pattern !== undefined && matchesLinear(key(entitlement), pattern);
}

/**
 * Splits entitlements into those `patterns` (spec.allowedEntitlements) admit and those they refuse,
 * comparing through the system's key. Without patterns, everything is admitted.
 */
export function splitAllowed(
  patterns: readonly string[] | undefined,
  entitlements: readonly string[],
  key: EntitlementKey = exact,
): { allowed: string[]; refused: RefusedEntitlement[] } {
  if (patterns === undefined) return { allowed: [...entitlements], refused: [] };
  const allowed: string[] = [];
  const refused: RefusedEntitlement[] = [];
  for (const entitlement of entitlements) {
    if (patterns.some((glob) => globMatches(glob, entitlement, key))) allowed.push(entitlement);
    else refused.push({ entitlement, reason: `not matched by spec.allowedEntitlements (${patterns.join(', ')})` });
  }
  return { allowed, refused };
}
