// Comparing names and values in the target system's own terms (Capabilities.comparison). A system
// that finds a group by a case-insensitive match holds `engineering` when `Engineering` is declared;
// compared exactly, every pass would grant one and revoke the other. Without a comparison, exact.
import type { Capabilities } from '../api/index.ts';

/** Two entitlements the system treats as one, refused together (reason `Refused` on the User). */
export interface Ambiguity {
  entitlements: string[];
  reason: string;
}

/** The key under which the system finds an entitlement. */
export function entitlementKeyOf(capabilities: Capabilities): (entitlement: string) => string {
  const key = capabilities.comparison?.entitlementKey;
  return key ? (entitlement) => key(entitlement) : (entitlement) => entitlement;
}

/** Whether the system holds `entitlement` among `held`, in its own terms. */
export function holdsEntitlement(held: readonly string[], entitlement: string, capabilities: Capabilities): boolean {
  const key = entitlementKeyOf(capabilities);
  const wanted = key(entitlement);
  return held.some((name) => key(name) === wanted);
}

/**
 * Groups of declared entitlements that the system treats as one name (`Engineering` and
 * `engineering` in LDAP): granting both would grant one and see it as the other, forever.
 */
export function ambiguousEntitlements(entitlements: readonly string[], capabilities: Capabilities): Ambiguity[] {
  const comparison = capabilities.comparison;
  if (!comparison?.entitlementKey) return [];
  const key = entitlementKeyOf(capabilities);
  const byKey = new Map<string, string[]>();
  for (const entitlement of new Set(entitlements)) byKey.set(key(entitlement), [...(byKey.get(key(entitlement)) ?? []), entitlement]);
  return [...byKey.values()]
    .filter((names) => names.length > 1)
    .map((names) => {
      const sorted = [...names].sort();
      const listed = sorted.map((name) => JSON.stringify(name)).join(' and ');
      return { entitlements: sorted, reason: `${listed} are one entitlement to this system (${comparison.rule}); declare one spelling` };
    });
}

/**
 * `held` as the status should show it: each entitlement the system holds under a declared one's key
 * is shown as declared (the User asked for `Engineering`; the directory calls it `engineering`).
 */
export function inDeclaredSpelling(held: readonly string[], declared: readonly string[], capabilities: Capabilities): string[] {
  if (!capabilities.comparison?.entitlementKey) return [...held];
  const key = entitlementKeyOf(capabilities);
  const declaredByKey = new Map(declared.map((name) => [key(name), name]));
  return [...new Set(held.map((name) => declaredByKey.get(key(name)) ?? name))].sort();
}

/**
 * Whether the system's `have` is what `declared` asks for. An undeclared attribute the system
 * must fill (attributeDefault) is satisfied by that default; values compare by attributeKey.
 */
export function sameAttributeValue(
  attribute: string,
  declared: string | undefined,
  have: string | undefined,
  userName: string,
  capabilities: Capabilities,
): boolean {
  const comparison = capabilities.comparison;
  const want = declared ?? comparison?.attributeDefault?.(attribute, userName);
  if (want === undefined || have === undefined) return want === have;
  const key = comparison?.attributeKey;
  return key ? key(attribute, want) === key(attribute, have) : want === have;
}
