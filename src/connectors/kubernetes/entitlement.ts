// Entitlement strings of the kubernetes type (documented on AccessRole.spec.systems[].entitlements),
// parsed into the binding they stand for. The string is the identity: it is stored on the binding verbatim.
import { PermanentError } from '../../api/index.ts';

export const ACCEPTED_FORMS = 'ClusterRole/NAME, ClusterRole/NAME@NAMESPACE or Role/NAME@NAMESPACE';

/** What one entitlement binds: a ClusterRoleBinding when `namespace` is undefined, else a RoleBinding in it. */
export interface BindingTarget {
  entitlement: string;
  roleKind: 'ClusterRole' | 'Role';
  roleName: string;
  namespace: string | undefined;
}

// A namespace is a DNS-1123 label.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Role names are path segments (the API server refuses '/' and '%'); ':' appears in built-in ones (system:...).
const ROLE_NAME = /^[A-Za-z0-9][-A-Za-z0-9._:]*$/;
const FORM = /^(ClusterRole|Role)\/([^@]+)(?:@(.+))?$/;

export function parseEntitlement(entitlement: string): BindingTarget {
  const refuse = (why: string) =>
    new PermanentError(`invalid Kubernetes entitlement ${JSON.stringify(entitlement)}: ${why}; accepted forms are ${ACCEPTED_FORMS}`);
  const match = FORM.exec(entitlement);
  if (!match) throw refuse('it does not start with ClusterRole/ or Role/');
  const [, roleKind, roleName, namespace] = match as unknown as [string, 'ClusterRole' | 'Role', string, string | undefined];
  if (roleName.length > 253 || !ROLE_NAME.test(roleName)) throw refuse(`${JSON.stringify(roleName)} is not a valid role name`);
  if (namespace !== undefined && (namespace.length > 63 || !NAMESPACE.test(namespace))) {
    throw refuse(`${JSON.stringify(namespace)} is not a valid namespace name`);
  }
  if (roleKind === 'Role' && namespace === undefined) throw refuse('a Role lives in a namespace, so it needs @NAMESPACE');
  return { entitlement, roleKind, roleName, namespace };
}
