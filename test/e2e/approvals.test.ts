// Approvals are the API server's business: the shipped ValidatingAdmissionPolicies make a binding of
// a role that requires approval record its requester, refuse forged, self-granted and unauthorised
// approvals, and the engine voids an approval after an edit.
// Everyone acts through impersonation; RBAC Roles grant the custom verb `approve`.
import { beforeAll, describe, expect, it } from 'vitest';
import { accessBindingResource, type AccessBinding, type AccessRole, type User } from '../../src/api/index.ts';
import { approvalOf, approvalState, scopeOf } from '../../src/engine/index.ts';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';

const GROUP = ['--as-group', 'rollcall-e2e'];

describe('approvals enforced by the admission policy', () => {
  let namespace: string;
  const as = (user: string, args: string[], input?: string) => kubectl(['--as', user, ...GROUP, '-n', namespace, ...args], input);
  const get = (name: string): AccessBinding => accessBindingResource.parse(JSON.parse(kubectlOk(['get', 'abind', name, '-n', namespace, '-o', 'json'])));
  const create = (user: string, name: string, extra: Record<string, unknown> = {}) =>
    as(
      user,
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'rollcall.dev/v1alpha1',
        kind: 'AccessBinding',
        metadata: { name, namespace },
        spec: { role: 'prod-admin', users: ['dave'], ...extra },
      }),
    );
  const list = <T>(kind: string): T[] => (JSON.parse(kubectlOk(['get', kind, '-n', namespace, '-o', 'json'])) as { items: T[] }).items;
  const state = (name: string) => approvalState(get(name), list<AccessRole>('accessroles.rollcall.dev'), list<User>('users.rollcall.dev'));
  // What kubectl rollcall approve writes: the scope and the digest of the content as it stands.
  const approve = (user: string, name: string, approvedBy = user, scope?: unknown) => {
    const binding = get(name);
    const approval = approvalOf(binding, list<AccessRole>('accessroles.rollcall.dev'), list<User>('users.rollcall.dev'), approvedBy);
    const patch = { spec: { approval: { ...approval, scope: scope ?? approval.scope } } };
    return as(user, ['patch', 'abind', name, '--type', 'merge', '-p', JSON.stringify(patch)]);
  };

  beforeAll(() => {
    namespace = createNamespace('approvals');
    const rbac = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: binding-editor, namespace: ${namespace}}
rules: [{apiGroups: [rollcall.dev], resources: [accessbindings], verbs: [get, list, create, update, patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: binding-editors, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: binding-editor}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: rollcall-e2e}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: approvers, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: rollcall-approver}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: dave}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: prod-admin, namespace: ${namespace}}
spec: {requiresApproval: true, grants: [{system: prod, entitlements: [admins]}]}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: viewer, namespace: ${namespace}}
spec: {grants: [{system: prod, entitlements: [viewers]}]}
`;
    kubectlOk(['apply', '-f', '-'], rbac);
    // A new policy takes a moment to be enforced: wait until a forged requester is refused, and (the
    // requester policy reads AccessRoles as parameters) until a missing one is.
    for (const [extra, policy] of [
      [{ requestedBy: 'someone-else' }, 'approval'],
      [{}, 'requester'],
    ] as const) {
      for (let attempt = 0; ; attempt++) {
        const probe = create('alice', 'probe', extra);
        if (probe.code !== 0) break;
        kubectlOk(['delete', 'abind', 'probe', '-n', namespace]);
        if (attempt > 50) throw new Error(`the ${policy} admission policy is not enforced`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      }
    }
  });

  it('the policy and its binding are installed by the chart (release rollcall, test/e2e/global-setup.ts)', () => {
    expect(kubectlOk(['get', 'validatingadmissionpolicies', '-o', 'name'])).toMatch(/accessbindings-approval\.rollcall\.dev/);
    // The API server type-checked every expression against the CRD's schema without a warning.
    expect(
      kubectlOk(['get', 'validatingadmissionpolicy', 'rollcall-accessbindings-approval.rollcall.dev', '-o', 'jsonpath={.status.typeChecking}']),
    ).not.toMatch(/warning/i);
    expect(kubectlOk(['get', 'validatingadmissionpolicybindings', '-o', 'name'])).toMatch(/accessbindings-approval\.rollcall\.dev/);
    expect(kubectlOk(['get', 'validatingadmissionpolicy', 'rollcall-accessbindings-requester.rollcall.dev', '-o', 'jsonpath={.spec.paramKind.kind}'])).toBe(
      'AccessRole',
    );
    expect(
      kubectlOk(['get', 'validatingadmissionpolicy', 'rollcall-accessbindings-requester.rollcall.dev', '-o', 'jsonpath={.status.typeChecking}']),
    ).not.toMatch(/warning/i);
    expect(kubectlOk(['get', 'validatingadmissionpolicybindings', '-o', 'name'])).toMatch(/accessbindings-requester\.rollcall\.dev/);
    expect(kubectlOk(['auth', 'can-i', 'approve', 'accessbindings.rollcall.dev', '-n', namespace, '--as', 'bob'])).toMatch(/yes/);
    expect(kubectl(['auth', 'can-i', 'approve', 'accessbindings.rollcall.dev', '-n', namespace, '--as', 'carol']).stdout).toMatch(/no/);
  });

  it('the requester is recorded from the request: another name is refused, and it never changes', () => {
    const forged = create('alice', 'forged-requester', { requestedBy: 'bob' });
    expect(forged.code).not.toBe(0);
    expect(forged.stderr).toMatch(/spec\.requestedBy must be your own user name, alice/);
    expect(create('alice', 'req', { requestedBy: 'alice' }).code).toBe(0);
    const changed = as('alice', ['patch', 'abind', 'req', '--type', 'merge', '-p', '{"spec":{"requestedBy":"erin"}}']);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toMatch(/spec\.requestedBy cannot change/);
  });

  it('an authorised approval is accepted and in force', () => {
    expect(create('alice', 'ok', { requestedBy: 'alice' }).code).toBe(0);
    expect(state('ok').state).toBe('Pending');
    const result = approve('bob', 'ok');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(state('ok')).toMatchObject({ state: 'Granted', approvedBy: 'bob' });
  });

  it('refuses self-approval, approval without the verb, a forged approver, a subject and a wrong scope', () => {
    expect(create('alice', 'refused', { requestedBy: 'alice' }).code).toBe(0);
    const cases: Array<[string, ReturnType<typeof kubectl>, RegExp]> = [
      ['the requester (holding approve)', approve('alice', 'refused'), /the requester cannot approve their own binding/],
      ['carol without the verb', approve('carol', 'refused'), /carol may not approve: approving needs the RBAC verb approve/],
      ['bob writing carol as approver', approve('bob', 'refused', 'carol'), /spec\.approval\.approvedBy must be your own user name, bob/],
      ['dave, a subject (holding approve)', approve('dave', 'refused'), /a subject of the binding cannot approve their own access/],
      [
        'bob approving another scope',
        approve('bob', 'refused', 'bob', { role: 'prod-admin', users: ['dave', 'erin'] }),
        /spec\.approval\.scope must equal the binding/,
      ],
    ];
    for (const [who, result, message] of cases) {
      expect(result.code, who).not.toBe(0);
      expect(result.stderr, who).toMatch(message);
    }
    expect(get('refused').spec.approval).toBeUndefined();
  });

  it('a binding of a role that requires approval must record its requester on create, whoever creates it', () => {
    const refused = create('alice', 'anonymous');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /AccessRole prod-admin requires approval, so a binding to it must record its requester: create it with spec\.requestedBy set to your own user name, alice/,
    );
    // The cluster admin is held to it too: nobody creates an approvable binding without a requester.
    const asAdmin = kubectl(
      ['create', '-n', namespace, '-f', '-'],
      JSON.stringify({
        apiVersion: 'rollcall.dev/v1alpha1',
        kind: 'AccessBinding',
        metadata: { name: 'anonymous' },
        spec: { role: 'prod-admin', users: ['dave'] },
      }),
    );
    expect(asAdmin.code).not.toBe(0);
    expect(asAdmin.stderr).toMatch(/must record its requester/);
    expect(kubectl(['get', 'abind', 'anonymous', '-n', namespace]).code).not.toBe(0);
  });

  it('a role without requiresApproval needs no requester, but its binding cannot be moved onto one that has it', () => {
    expect(create('alice', 'plain', { role: 'viewer' }).code).toBe(0);
    expect(as('alice', ['patch', 'abind', 'plain', '--type', 'merge', '-p', '{"spec":{"reason":"read-only dashboards"}}']).code).toBe(0);
    const moved = as('alice', ['patch', 'abind', 'plain', '--type', 'merge', '-p', '{"spec":{"role":"prod-admin"}}']);
    expect(moved.code).not.toBe(0);
    expect(moved.stderr).toMatch(/AccessRole prod-admin requires approval, so a binding to it must record its requester/);
    expect(get('plain').spec.role).toBe('viewer');
  });

  it("only the AccessRole of the binding's own namespace counts", () => {
    const other = createNamespace('approvals-other');
    kubectlOk(
      ['apply', '-n', other, '-f', '-'],
      `apiVersion: rollcall.dev/v1alpha1\nkind: AccessRole\nmetadata: {name: prod-admin}\nspec: {grants: [{system: prod, entitlements: [admins]}]}\n`,
    );
    const created = kubectl(
      ['create', '-n', other, '-f', '-'],
      JSON.stringify({
        apiVersion: 'rollcall.dev/v1alpha1',
        kind: 'AccessBinding',
        metadata: { name: 'no-approval-here' },
        spec: { role: 'prod-admin', users: ['dave'] },
      }),
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
  });

  it('a binding made before its role required approval has no requester and cannot be approved', () => {
    expect(create('alice', 'early', { role: 'later-gated' }).code).toBe(0);
    kubectlOk(
      ['apply', '-n', namespace, '-f', '-'],
      'apiVersion: rollcall.dev/v1alpha1\nkind: AccessRole\nmetadata: {name: later-gated}\nspec: {requiresApproval: true, grants: [{system: prod, entitlements: [admins]}]}\n',
    );
    const result = approve('bob', 'early');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/without spec\.requestedBy cannot be approved/);
    expect(state('early').state).toBe('Pending');
  });

  it('an edit after approval voids it; the requester cannot re-approve it by touching the approval', () => {
    expect(create('alice', 'edited', { requestedBy: 'alice', validUntil: '2030-01-01T00:00:00Z' }).code).toBe(0);
    expect(approve('bob', 'edited').code).toBe(0);
    expect(
      as('alice', ['patch', 'abind', 'edited', '--type', 'merge', '-p', '{"spec":{"validUntil":"2031-01-01T00:00:00Z","users":["dave","erin"]}}']).code,
    ).toBe(0);
    expect(state('edited')).toMatchObject({ state: 'Voided', message: 'users, validUntil changed after bob approved' });
    const reapproved = as('alice', [
      'patch',
      'abind',
      'edited',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { approval: { scope: scopeOf(get('edited')) } } }),
    ]);
    expect(reapproved.code).not.toBe(0);
    expect(reapproved.stderr).toMatch(/approvedBy must be your own user name, alice/);
    // bob approves the binding as it now stands.
    expect(approve('bob', 'edited').code).toBe(0);
    expect(state('edited').state).toBe('Granted');
  });
});
