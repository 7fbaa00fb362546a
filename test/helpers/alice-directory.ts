// The smallest world several controller tests share: one embedded sqlite system `directory` in
// namespace acme, one role granting `staff` there, bound to alice, and (optionally) alice herself.

export interface AliceDirectory {
  /** The sqlite file of the system. */
  path: string;
  /** spec.deprovision of the system, in YAML flow style. */
  deprovision: string;
  suspend?: boolean;
  /** Whether the User alice is declared (false: `kubectl delete user alice`). */
  withUser: boolean;
}

export function aliceDirectory({ path, deprovision, suspend = false, withUser }: AliceDirectory): string {
  return `apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: directory, namespace: acme}
spec: {type: sqlite, sqlite: {path: ${JSON.stringify(path)}}, deprovision: ${deprovision}, suspend: ${suspend}}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: staff, namespace: acme}
spec: {grants: [{system: directory, entitlements: [staff]}]}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: staff, namespace: acme}
spec: {role: staff, users: [alice]}
${withUser ? '---\napiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: alice, namespace: acme}\nspec: {userName: alice}\n' : ''}`;
}
