// Kubernetes label selector semantics, so bindings select Users exactly as kubectl would.
import type { LabelSelector } from '../api/index.ts';

/** Every matchLabels entry and every matchExpressions requirement must hold; an empty selector matches all. */
export function matchesSelector(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (have[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const present = Object.hasOwn(have, key);
    const value = have[key];
    const matched =
      operator === 'In'
        ? present && values.includes(value!)
        : operator === 'NotIn'
          ? !present || !values.includes(value!)
          : operator === 'Exists'
            ? present
            : !present;
    if (!matched) return false;
  }
  return true;
}
