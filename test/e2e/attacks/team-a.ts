// The attacker of the attack suite: mallory, of group team-a, who may write every Rollcall kind in one
// namespace and nothing else (no Secrets, no RBAC) — what a team lead or a GitOps repository of one
// tenant holds.
import { kubectl, kubectlOk, type Result } from '../kube.ts';

/** Lets group team-a write every Rollcall kind in `namespace`. */
export function letTeamAWriteRollcall(namespace: string): void {
  kubectlOk(
    ['apply', '-f', '-'],
    `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: rollcall-writer, namespace: ${namespace}}
rules: [{apiGroups: [rollcall.dev], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: team-a-writes-rollcall, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: rollcall-writer}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: team-a}]
`,
  );
}

/** kubectl as mallory of team-a, in `namespace`; never throws, so tests can assert refusals. */
export function asTeamA(namespace: string, args: string[], input?: string): Result {
  return kubectl(['--as', 'mallory', '--as-group', 'team-a', '-n', namespace, ...args], input);
}
