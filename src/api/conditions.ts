// Standard Kubernetes condition helpers, after apimachinery's meta.SetStatusCondition: the
// transition time moves only when the status flips, so `kubectl describe` shows how long a
// resource has been (not) Ready, and an unchanged status can skip its write entirely.
import type { Condition } from './index.ts';

export type ConditionStatus = Condition['status'];

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** RFC 3339 at whole seconds, as the API server stores metav1.Time; keeps status writes comparable. */
export function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Returns new conditions with `next` set: replaced in place when its type exists (order kept), else
 * appended. `lastTransitionTime` changes only when the status flips. The input is not modified.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionUpdate,
  observedGeneration: number | undefined,
  now: Date,
): Condition[] {
  const current = conditions ?? [];
  const existing = current.find((c) => c.type === next.type);
  const updated: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: next.message,
    lastTransitionTime: existing && existing.status === next.status ? existing.lastTransitionTime : kubeTime(now),
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
  if (!existing) return [...current, updated];
  return current.map((c) => (c === existing ? updated : c));
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/**
 * Deep equality with JSON semantics: key order does not matter, keys whose value is undefined count
 * as absent, array order matters. Lets a controller skip a status write that would change nothing.
 */
export function statusEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => statusEqual(item, b[i]));
  }
  const left = definedEntries(a as Record<string, unknown>);
  const right = definedEntries(b as Record<string, unknown>);
  if (left.size !== right.size) return false;
  for (const [key, value] of left) {
    if (!right.has(key) || !statusEqual(value, right.get(key))) return false;
  }
  return true;
}

function definedEntries(object: Record<string, unknown>): Map<string, unknown> {
  return new Map(Object.entries(object).filter(([, value]) => value !== undefined));
}
