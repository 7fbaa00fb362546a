// A role together with everything it includes, flattened once so bindings can ask simple questions.
import type { AccessRole } from '../api/index.ts';
import { parseDuration } from './duration.ts';

export interface ResolvedRole {
  /** System name → entitlements, unioned over the role and every role it includes. */
  grants: Map<string, Set<string>>;
  /** True when the role or any role it includes requires approval. */
  requiresApproval: boolean;
  /** The shortest maxDuration in the closure: a role cannot lengthen the limit of a role it includes. */
  maxDurationMs: number | undefined;
  /** That shortest maxDuration as written, for what an approval records and names. */
  maxDuration?: string;
}

/**
 * Resolves `name` among `roles` (already restricted to one namespace). Includes are followed
 * transitively; a cycle is visited once, and a missing role contributes nothing.
 * Returns undefined only when the named role itself does not exist.
 */
export function resolveRole(name: string, roles: readonly AccessRole[]): ResolvedRole | undefined {
  const byName = new Map(roles.map((role) => [role.metadata.name, role]));
  if (!byName.has(name)) return undefined;

  const resolved: ResolvedRole = { grants: new Map(), requiresApproval: false, maxDurationMs: undefined };
  const seen = new Set<string>();
  const pending = [name];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    const role = byName.get(current);
    if (role === undefined) continue;

    for (const grant of role.spec.grants) {
      const entitlements = resolved.grants.get(grant.system) ?? new Set<string>();
      for (const entitlement of grant.entitlements) entitlements.add(entitlement);
      resolved.grants.set(grant.system, entitlements);
    }
    resolved.requiresApproval ||= role.spec.requiresApproval;
    if (role.spec.maxDuration !== undefined) {
      const ms = parseDuration(role.spec.maxDuration);
      if (resolved.maxDurationMs === undefined || ms < resolved.maxDurationMs) {
        resolved.maxDurationMs = ms;
        resolved.maxDuration = role.spec.maxDuration;
      }
    }
    pending.push(...(role.spec.includes ?? []));
  }
  return resolved;
}
