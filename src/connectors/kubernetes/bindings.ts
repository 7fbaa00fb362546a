// The binding Rollcall wants for one (user, entitlement), and what a binding found on the server says.
// Pure: no API calls, so the translation is easy to read and to test.
import type { RbacV1Subject, V1ClusterRoleBinding, V1RoleBinding, V1RoleRef } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import { parseEntitlement, type BindingTarget } from './entitlement.ts';
import { bindingName, ENTITLEMENT_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SYSTEM_LABEL, USER_ANNOTATION, USER_KEY_LABEL, userKey } from './names.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Who this connector is: every binding it creates carries these, and it sees no other binding. */
export interface Scope {
  /** `namespace/name` of the ConnectedSystem. */
  system: string;
  systemLabel: string;
  subjectName: 'userName' | 'email';
}

export type Binding = V1RoleBinding | V1ClusterRoleBinding;

export function desiredBinding(scope: Scope, userName: string, subjectName: string, target: BindingTarget): Binding {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: target.namespace === undefined ? 'ClusterRoleBinding' : 'RoleBinding',
    metadata: {
      name: bindingName(scope.system, userName, target.entitlement),
      ...(target.namespace === undefined ? {} : { namespace: target.namespace }),
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [SYSTEM_LABEL]: scope.systemLabel,
        [USER_KEY_LABEL]: userKey(scope.system, userName),
      },
      annotations: { [USER_ANNOTATION]: userName, [ENTITLEMENT_ANNOTATION]: target.entitlement },
    },
    roleRef: { apiGroup: RBAC_GROUP, kind: target.roleKind, name: target.roleName },
    subjects: [{ kind: 'User', apiGroup: RBAC_GROUP, name: subjectName }],
  };
}

/** Same labels, annotations, role and subjects as `want`: nothing to write. Other metadata (someone's extra labels) is not ours. */
export function sameContent(have: Binding, want: Binding): boolean {
  const ours = (values: Record<string, string> | undefined, keys: Record<string, string> | undefined) =>
    Object.keys(keys ?? {}).every((key) => values?.[key] === keys?.[key]);
  return (
    ours(have.metadata?.labels, want.metadata?.labels) &&
    ours(have.metadata?.annotations, want.metadata?.annotations) &&
    isDeepStrictEqual(roleRefFields(have.roleRef), roleRefFields(want.roleRef)) &&
    isDeepStrictEqual(have.subjects?.map(subjectFields), want.subjects?.map(subjectFields))
  );
}

// Plain objects of the fields that matter: the client deserialises into class instances, which
// never deep-equal a literal, and leaves optional fields undefined where a literal omits them.
function roleRefFields(roleRef: V1RoleRef): V1RoleRef {
  return { apiGroup: roleRef.apiGroup, kind: roleRef.kind, name: roleRef.name };
}

function subjectFields(subject: RbacV1Subject): RbacV1Subject {
  return { kind: subject.kind, apiGroup: subject.apiGroup ?? '', name: subject.name, namespace: subject.namespace ?? '' };
}

/** A binding in the managed scope, read back into Rollcall's terms. */
export interface ManagedBinding {
  name: string;
  namespace: string | undefined;
  userName: string;
  entitlement: string;
  subjectName: string;
  resourceVersion: string;
  /**
   * Still exactly what Rollcall wrote. A binding someone edited (another subject added, say) does
   * not count as holding its entitlement, so the plan grants it again and the grant restores it.
   */
  intact: boolean;
}

/** undefined when the binding lacks Rollcall's annotations: it carries our labels but not our meaning. */
export function readBinding(scope: Scope, binding: Binding): ManagedBinding | undefined {
  const annotations = binding.metadata?.annotations ?? {};
  const userName = annotations[USER_ANNOTATION];
  const entitlement = annotations[ENTITLEMENT_ANNOTATION];
  if (userName === undefined || entitlement === undefined) return undefined;
  const subjects = binding.subjects ?? [];
  const subjectName = subjects.length === 1 ? subjects[0]!.name : '';
  return {
    name: binding.metadata?.name ?? '',
    namespace: binding.metadata?.namespace,
    userName,
    entitlement,
    subjectName,
    resourceVersion: binding.metadata?.resourceVersion ?? '',
    intact: isIntact(scope, binding, userName, entitlement, subjectName),
  };
}

function isIntact(scope: Scope, binding: Binding, userName: string, entitlement: string, subjectName: string): boolean {
  let target: BindingTarget;
  try {
    target = parseEntitlement(entitlement);
  } catch {
    return false;
  }
  if (binding.metadata?.namespace !== target.namespace) return false;
  // With e-mail subjects the address is not known here; the subject must still be one User.
  if (subjectName === '' || (scope.subjectName === 'userName' && subjectName !== userName)) return false;
  return sameContent(binding, desiredBinding(scope, userName, subjectName, target));
}
