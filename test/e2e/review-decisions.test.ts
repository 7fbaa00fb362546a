// AccessReview decisions go through the API server under the same rules as approvals: by the
// reviewer themself, listed and holding the verb approve on accessreviews, never on their own
// access, appended only.
import { beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';

describe('AccessReview decisions enforced by the admission policy', () => {
  let namespace: string;
  const as = (user: string, args: string[]) => kubectl(['--as', user, '--as-group', 'rollcall-e2e', '-n', namespace, ...args]);
  const decide = (reviewer: string, decision: Record<string, string>) => {
    const current = JSON.parse(kubectlOk(['get', 'arev', 'q4', '-n', namespace, '-o', 'json'])) as { spec: { decisions?: unknown[] } };
    const decisions = [...(current.spec.decisions ?? []), decision];
    return as(reviewer, ['patch', 'arev', 'q4', '--type', 'merge', '-p', JSON.stringify({ spec: { decisions } })]);
  };

  beforeAll(() => {
    namespace = createNamespace('reviews');
    kubectlOk(
      ['apply', '-f', '-'],
      `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: review-editor, namespace: ${namespace}}
rules: [{apiGroups: [rollcall.dev], resources: [accessreviews], verbs: [get, list, create, update, patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: review-editors, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: review-editor}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: rollcall-e2e}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reviewers, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: rollcall-approver}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: carol}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessReview
metadata: {name: q4, namespace: ${namespace}}
spec: {scope: {roles: [prod-admin]}, reviewers: [bob, carol, dave], dueDate: "2030-01-01T00:00:00Z", defaultDecision: revoke}
`,
    );
    for (let attempt = 0; ; attempt++) {
      if (decide('erin', { user: 'ann', binding: 'b', decision: 'keep', decidedBy: 'bob' }).code !== 0) break;
      if (attempt > 50) throw new Error('the review admission policy is not enforced');
      kubectlOk(['patch', 'arev', 'q4', '-n', namespace, '--type', 'json', '-p', '[{"op":"remove","path":"/spec/decisions"}]']);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  });

  it('kubectl get arev shows the campaign', () => {
    expect(kubectlOk(['get', 'arev', '-n', namespace])).toMatch(/^q4\s+2030-01-01T00:00:00Z\s+revoke/m);
  });

  it('refuses a forged reviewer, a reviewer not listed, one without the verb, and a decision on their own access', () => {
    const cases: Array<[string, ReturnType<typeof kubectl>, RegExp]> = [
      ['bob writing carol', decide('bob', { user: 'ann', binding: 'b', decision: 'keep', decidedBy: 'carol' }), /decidedBy must be your own user name, bob/],
      [
        'erin, not listed',
        decide('erin', { user: 'ann', binding: 'b', decision: 'keep', decidedBy: 'erin' }),
        /only a reviewer listed in spec\.reviewers can decide/,
      ],
      [
        'dave, listed without the verb',
        decide('dave', { user: 'ann', binding: 'b', decision: 'keep', decidedBy: 'dave' }),
        /dave may not decide: deciding needs the RBAC verb approve/,
      ],
      [
        'carol on her own access',
        decide('carol', { user: 'carol', binding: 'b', decision: 'keep', decidedBy: 'carol' }),
        /a reviewer cannot decide on their own access/,
      ],
    ];
    for (const [who, result, message] of cases) {
      expect(result.code, who).not.toBe(0);
      expect(result.stderr, who).toMatch(message);
    }
  });

  it('a reviewer decides; the decision cannot be changed or removed afterwards', () => {
    const ok = decide('bob', { user: 'ann', binding: 'b', decision: 'revoke', decidedBy: 'bob' });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const rewritten = as('carol', [
      'patch',
      'arev',
      'q4',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { decisions: [{ user: 'ann', binding: 'b', decision: 'keep', decidedBy: 'bob' }] } }),
    ]);
    expect(rewritten.code).not.toBe(0);
    expect(rewritten.stderr).toMatch(/decisions are never changed or removed/);
  });
});
