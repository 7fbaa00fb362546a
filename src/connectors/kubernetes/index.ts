// Kubernetes RBAC: grants are RoleBindings and ClusterRoleBindings to a User subject, in the
// cluster Rollcall runs in (context.kubeconfig). Entitlements: ClusterRole/NAME,
// ClusterRole/NAME@NAMESPACE, Role/NAME@NAMESPACE. A system binds only inside its own namespace
// unless context.kubernetesReach (a cluster admin's --kubernetes-allow) says more (reach.ts).
import { PermanentError } from '../../api/index.ts';
import { DEFAULT_TIMEOUT_MS } from '../timeout.ts';
import type { ConnectorFactory } from '../types.ts';
import { KubernetesConnector } from './connector.ts';
import { systemLabelValue } from './names.ts';
import { RbacClient } from './rbac.ts';
import { subjectLookup } from './subjects.ts';

export { ACCEPTED_FORMS, parseEntitlement, type BindingTarget } from './entitlement.ts';
export { KubernetesConnector } from './connector.ts';
export { ALLOW_FLAG, outOfReach, parseAllowances, reachOf, type KubernetesAllowances } from './reach.ts';
export { BINDABLE_FLAG, DEFAULT_BINDABLE_CLUSTER_ROLES, OPERATOR_ROLES_FLAG, parseBindableClusterRoles, parseOperatorRoles, roleRefusal } from './bindable.ts';

export const createKubernetesConnector: ConnectorFactory = async (context) => {
  const kubeconfig = context.kubeconfig;
  if (kubeconfig === undefined) {
    throw new PermanentError(`ConnectedSystem ${context.system}: type kubernetes needs a kubeconfig for the cluster, and none was given`);
  }
  const name = context.system.slice(context.system.indexOf('/') + 1);
  const settings = { system: context.system, timeoutMs: context.timeoutMs ?? DEFAULT_TIMEOUT_MS };
  const subjectName = context.spec.kubernetes?.subjectName ?? 'userName';
  return new KubernetesConnector({
    scope: { system: context.system, systemLabel: systemLabelValue(context.namespace, name), subjectName },
    rbac: new RbacClient(kubeconfig, settings),
    subjectFor: subjectLookup(subjectName, kubeconfig, context.namespace, settings),
    logger: context.logger,
    home: context.namespace,
    reach: context.kubernetesReach ?? { cluster: false, namespaces: [] },
  });
};
