// `kubectl rollcall` against the real API server: approve and review decide as the kubectl user
// (here impersonated), status reads a User; what the admission policy refuses stays refused.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createNamespace, kubectlOk } from './kube.ts';

const PLUGIN = join(import.meta.dirname, '..', '..', 'bin', 'kubectl-rollcall');

describe('kubectl rollcall', () => {
  let namespace: string;
  const plugin = (args: string[]) => {
    const result = spawnSync(process.execPath, [PLUGIN, ...args, '-n', namespace], {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: inject('kubeconfig') },
    });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  };
  const as = (user: string) => ['--as', user, '--as-group', 'rollcall-e2e'];

  beforeAll(() => {
    namespace = createNamespace('plugin');
    kubectlOk(
      ['apply', '-f', '-'],
      `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: editor, namespace: ${namespace}}
rules: [{apiGroups: [rollcall.dev], resources: [accessbindings, accessreviews, users], verbs: [get, list, create, update, patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: editors, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: editor}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: rollcall-e2e}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: approvers, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: rollcall-approver}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}]
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: prod-admin, namespace: ${namespace}}
spec: {requiresApproval: true, grants: [{system: prod, entitlements: [admins]}]}
---
apiVersion: rollcall.dev/v1alpha1
kind: User
metadata: {name: dave, namespace: ${namespace}}
spec: {userName: dave}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessReview
metadata: {name: q4, namespace: ${namespace}}
spec: {reviewers: [bob], dueDate: "2030-01-01T00:00:00Z"}
`,
    );
    kubectlOk(
      ['--as', 'alice', '--as-group', 'rollcall-e2e', '-n', namespace, 'create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'rollcall.dev/v1alpha1',
        kind: 'AccessBinding',
        metadata: { name: 'dave-prod' },
        spec: { role: 'prod-admin', users: ['dave'], requestedBy: 'alice' },
      }),
    );
  });

  it('approve: refused for the requester, accepted for an approver, recorded as them', () => {
    const self = plugin(['approve', 'dave-prod', ...as('alice')]);
    expect(self.code).not.toBe(0);
    expect(self.stderr).toMatch(/the requester cannot approve their own binding/);
    const ok = plugin(['approve', 'dave-prod', ...as('bob')]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/accessbinding dave-prod approved by bob: role prod-admin, users dave/);
    const approval = JSON.parse(kubectlOk(['get', 'abind', 'dave-prod', '-n', namespace, '-o', 'jsonpath={.spec.approval}'])) as Record<string, unknown>;
    expect(approval).toMatchObject({ approvedBy: 'bob', scope: { role: 'prod-admin', users: ['dave'] } });
  });

  it('review: a reviewer decides as themself; the review lists; status reads a User', () => {
    const decided = plugin(['review', 'q4', 'revoke', 'dave', 'dave-prod', '--comment', 'left the team', ...as('bob')]);
    expect(decided.stderr).toBe('');
    expect(decided.stdout).toMatch(/bob decided revoke for dave/);
    expect(kubectlOk(['get', 'arev', 'q4', '-n', namespace, '-o', 'jsonpath={.spec.decisions[0].decidedBy}'])).toBe('bob');
    const refused = plugin(['review', 'q4', 'keep', 'dave', 'dave-prod', ...as('alice')]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/only a reviewer listed in spec\.reviewers can decide/);
    expect(plugin(['review']).stdout).toMatch(/^q4\s/m);
    expect(plugin(['status', 'dave']).stdout).toMatch(/^User .*\/dave \(dave\): active/);
  });

  it('plan and audit run rollcall against the same cluster and namespace', () => {
    const audit = plugin(['audit', '-o', 'json']);
    expect(audit.stderr).toBe('');
    expect(JSON.parse(audit.stdout)).toMatchObject({ format: 'rollcall.dev/audit/v1', systems: [] });
    const plan = plugin(['plan', '-o', 'json']);
    expect(JSON.parse(plan.stdout)).toMatchObject({ format: 'rollcall.dev/plan/v1', systems: [] });
  });
});
