// --kubernetes-allow for `rollcall run` and `rollcall plan`: the same flags give the same reach.
import type { KubernetesReach } from '../connectors/types.ts';

/** The reach per namespace, or undefined without flags (every system binds only in its namespace). */
export async function kubernetesReachFrom(values: readonly string[]): Promise<((namespace: string) => KubernetesReach) | undefined> {
  if (values.length === 0) return undefined;
  // The kubernetes connector is loaded only when it is configured.
  const { parseAllowances, reachOf } = await import('../connectors/kubernetes/reach.ts');
  const allowances = parseAllowances(values);
  return (namespace) => reachOf(allowances, namespace);
}
