// How far a kubernetes ConnectedSystem may bind. A namespace is a tenant: whoever may create Rollcall
// objects in it must not be able to grant access beyond it through the operator's ServiceAccount.
// So a system binds only inside its own namespace, unless a cluster admin allows more for that
// namespace on the command line (`--kubernetes-allow`, fed from the Helm chart).
import type { KubernetesReach } from '../types.ts';
import { roleRefusal } from './bindable.ts';
import type { BindingTarget } from './entitlement.ts';

export const ALLOW_FLAG = '--kubernetes-allow';
const FORMS = `NAMESPACE=cluster, NAMESPACE=namespaces:NS[,NS...] or NAMESPACE=namespaces:*`;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Allowances by the namespace of the systems they apply to. */
export type KubernetesAllowances = ReadonlyMap<string, KubernetesReach>;

/**
 * Parses the values of repeated `--kubernetes-allow` flags; repeats for one namespace add up.
 * `team-a=cluster`: team-a's systems may bind ClusterRoles cluster-wide (ClusterRoleBindings).
 * `team-a=namespaces:web,db`: they may create RoleBindings in web and db too; `namespaces:*` in any.
 */
export function parseAllowances(values: readonly string[]): KubernetesAllowances {
  const out = new Map<string, { cluster: boolean; namespaces: string[] }>();
  for (const value of values) {
    const fail = (why: string) => new Error(`${ALLOW_FLAG} ${JSON.stringify(value)}: ${why}; accepted forms are ${FORMS}`);
    const eq = value.indexOf('=');
    if (eq < 0) throw fail('no "="');
    const namespace = value.slice(0, eq).trim();
    const grant = value.slice(eq + 1).trim();
    if (!NAMESPACE.test(namespace)) throw fail(`${JSON.stringify(namespace)} is not a namespace name`);
    const reach = out.get(namespace) ?? { cluster: false, namespaces: [] };
    if (grant === 'cluster') reach.cluster = true;
    else if (grant.startsWith('namespaces:')) {
      const names = grant
        .slice('namespaces:'.length)
        .split(',')
        .map((n) => n.trim());
      for (const name of names) {
        if (name !== '*' && !NAMESPACE.test(name)) throw fail(`${JSON.stringify(name)} is not a namespace name`);
        if (!reach.namespaces.includes(name)) reach.namespaces.push(name);
      }
    } else throw fail(`unknown grant ${JSON.stringify(grant)}`);
    out.set(namespace, reach);
  }
  return out;
}

/** What systems of `namespace` may do beyond it: nothing unless allowed. */
export function reachOf(
  allowances: KubernetesAllowances | undefined,
  namespace: string,
  roles: Pick<KubernetesReach, 'bindableClusterRoles' | 'operatorRoles'> = {},
): KubernetesReach {
  return { ...(allowances?.get(namespace) ?? { cluster: false, namespaces: [] }), ...roles };
}

/** Why a system of `home` may not create this binding (the role it binds, or where), or undefined when it may. */
export function outOfReach(system: string, home: string, reach: KubernetesReach, target: BindingTarget): string | undefined {
  const role = roleRefusal(reach, target);
  if (role !== undefined) return role;
  const how = (grant: string) => `a cluster admin can allow it with ${ALLOW_FLAG} ${home}=${grant} (Helm value kubernetesConnector.allow)`;
  if (target.namespace === undefined) {
    if (reach.cluster) return undefined;
    return `${target.entitlement} would bind cluster-wide (a ClusterRoleBinding), and ConnectedSystem ${system} may bind only inside namespace ${home}; use ${target.entitlement}@${home} to bind it there, or ${how('cluster')}`;
  }
  if (target.namespace === home || reach.namespaces.includes('*') || reach.namespaces.includes(target.namespace)) return undefined;
  return `${target.entitlement} would bind in namespace ${target.namespace}, and ConnectedSystem ${system} may bind only inside namespace ${home}; ${how(`namespaces:${target.namespace}`)}`;
}
