// --kubernetes-allow, --kubernetes-bindable-cluster-roles and --kubernetes-operator-roles for
// `rollcall run` and `rollcall plan`: the same flags give the same reach.
import type { KubernetesReach } from '../connectors/types.ts';

export interface KubernetesFlags {
  /** Values of --kubernetes-allow: how far systems of a namespace may bind beyond it. */
  allow?: readonly string[];
  /** Values of --kubernetes-bindable-cluster-roles: the ClusterRoles that may be bound (default view). */
  bindableClusterRoles?: readonly string[];
  /** Values of --kubernetes-operator-roles: the operator's own roles, never bound. */
  operatorRoles?: readonly string[];
}

/** The reach per namespace, or undefined without flags (every system binds only in its namespace, only view among ClusterRoles). */
export async function kubernetesReachFrom(flags: KubernetesFlags): Promise<((namespace: string) => KubernetesReach) | undefined> {
  const given = [flags.allow, flags.bindableClusterRoles, flags.operatorRoles].some((values) => values !== undefined && values.length > 0);
  if (!given) return undefined;
  // The kubernetes connector is loaded only when it is configured.
  const { parseAllowances, reachOf } = await import('../connectors/kubernetes/reach.ts');
  const { parseBindableClusterRoles, parseOperatorRoles } = await import('../connectors/kubernetes/bindable.ts');
  const allowances = parseAllowances(flags.allow ?? []);
  const roles = { bindableClusterRoles: parseBindableClusterRoles(flags.bindableClusterRoles), operatorRoles: parseOperatorRoles(flags.operatorRoles) };
  return (namespace) => reachOf(allowances, namespace, roles);
}
