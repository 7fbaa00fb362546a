// Which roles a kubernetes ConnectedSystem may bind at all, wherever it binds them. The API server's
// own check (RBAC escalation prevention) lets Rollcall's ServiceAccount bind any role whose rules it
// holds, and it holds more than any tenant: every rule of its own ClusterRole (Secrets, RoleBindings,
// every Rollcall /status), so a tenant naming `ClusterRole/rollcall@team-a` got all of that. The
// `bind` verb's resourceNames in the chart do not help, because the escalation check passes first.
// So Rollcall decides by name itself:
//  - a ClusterRole is bound only when a cluster admin listed it (--kubernetes-bindable-cluster-roles,
//    Helm value kubernetesConnector.bindableClusterRoles; default `view` only: `edit` can impersonate
//    ServiceAccounts, which leaves the namespace);
//  - the operator's own roles (--kubernetes-operator-roles, which the chart fills with the names it
//    creates) are never bound, whatever the list says;
//  - a namespace Role (Role/NAME@NS) is the namespace's own, and stays bindable unless it is the operator's.
import { PermanentError } from '../../api/index.ts';
import type { KubernetesReach } from '../types.ts';
import { parseEntitlement, type BindingTarget } from './entitlement.ts';

export const BINDABLE_FLAG = '--kubernetes-bindable-cluster-roles';
export const OPERATOR_ROLES_FLAG = '--kubernetes-operator-roles';
/** Without the flag: only view, which reads and never grants. */
export const DEFAULT_BINDABLE_CLUSTER_ROLES: readonly string[] = ['view'];
const ROLE_NAME = /^[A-Za-z0-9][-A-Za-z0-9._:]*$/;

/** The values of repeated `--kubernetes-bindable-cluster-roles A,B` flags, or the default without any. */
export function parseBindableClusterRoles(values: readonly string[] | undefined): readonly string[] {
  if (values === undefined || values.length === 0) return DEFAULT_BINDABLE_CLUSTER_ROLES;
  const names = values
    .flatMap((value) => value.split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of names) {
    if (name.length > 253 || !ROLE_NAME.test(name)) throw new Error(`${BINDABLE_FLAG}: ${JSON.stringify(name)} is not a ClusterRole name`);
  }
  return [...new Set(names)];
}

/** The values of `--kubernetes-operator-roles ClusterRole/NAME,Role/NAME@NAMESPACE`: the operator's own roles. */
export function parseOperatorRoles(values: readonly string[] | undefined): readonly string[] {
  const refs = (values ?? [])
    .flatMap((value) => value.split(','))
    .map((ref) => ref.trim())
    .filter((ref) => ref !== '');
  for (const ref of refs) {
    let target: BindingTarget;
    try {
      target = parseEntitlement(ref);
    } catch (error) {
      throw new Error(`${OPERATOR_ROLES_FLAG}: ${(error as PermanentError).message}`, { cause: error });
    }
    if (target.roleKind === 'ClusterRole' && target.namespace !== undefined) {
      throw new Error(
        `${OPERATOR_ROLES_FLAG}: ${JSON.stringify(ref)}: name a ClusterRole without @NAMESPACE (ClusterRole/NAME); it is refused wherever it would be bound`,
      );
    }
  }
  return [...new Set(refs)];
}

/** Whether `target` binds the role that `ref` (ClusterRole/NAME or Role/NAME@NAMESPACE) names. */
function bindsRole(ref: string, target: BindingTarget): boolean {
  const role = parseEntitlement(ref);
  if (role.roleKind !== target.roleKind || role.roleName !== target.roleName) return false;
  return role.roleKind === 'ClusterRole' || role.namespace === target.namespace;
}

/** Why a system may not bind the role `target` names, wherever it is bound, or undefined when it may. */
export function roleRefusal(reach: KubernetesReach, target: BindingTarget): string | undefined {
  const own = (reach.operatorRoles ?? []).find((ref) => bindsRole(ref, target));
  if (own !== undefined) {
    return `${target.entitlement} binds ${own}, the operator's own role (${OPERATOR_ROLES_FLAG}): its ServiceAccount holds every rule of it, so the API server would not stop the binding; Rollcall never binds it`;
  }
  if (target.roleKind === 'Role') return undefined;
  const bindable = reach.bindableClusterRoles ?? DEFAULT_BINDABLE_CLUSTER_ROLES;
  if (bindable.includes(target.roleName)) return undefined;
  const listed = bindable.length ? bindable.join(', ') : 'none';
  return `${target.entitlement} binds ClusterRole ${target.roleName}, which is not among the ClusterRoles a cluster admin allowed binding (${listed}); a cluster admin can add it with ${BINDABLE_FLAG} (Helm value kubernetesConnector.bindableClusterRoles)`;
}
