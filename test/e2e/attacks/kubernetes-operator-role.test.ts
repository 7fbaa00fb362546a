// Issue 17, hole 3, on the real API server: a team-a writer declares, for its own User, a RoleBinding
// to the operator's own ClusterRole in team-a (the API server's escalation check lets the operator
// bind it, because its ServiceAccount holds every rule of it: every Secret of team-a, RoleBinding
// writes, every Rollcall /status) and one to edit (which may impersonate ServiceAccounts, and so
// leave the namespace). Both are refused by name, shown as Refused on the User naming the binding and
// why, `rollcall plan` says the same, and no RoleBinding is made; view is still bound. The
// operator's own role stays refused even when a cluster admin lists it bindable.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNamespace, helm, kubectl, kubectlOk } from '../kube.ts';
import { eventually, startRollcall, type RollcallRun } from '../rollcall-run.ts';
import { asTeamA as asTeamAIn, letTeamAWriteRollcall } from './team-a.ts';

const ROLLCALL = join(import.meta.dirname, '..', '..', '..', 'bin', 'rollcall.js');
const CHART = join(import.meta.dirname, '..', '..', '..', 'charts', 'rollcall');

describe("a tenant cannot bind the operator's own ClusterRole, nor edit by default", () => {
  let namespace: string;
  let operatorRole: string;
  let rollcall: RollcallRun | undefined;
  /** kubectl as a team-a writer: every Rollcall kind in its namespace, nothing else. */
  const asTeamA = (args: string[], input?: string) => asTeamAIn(namespace, args, input);
  const operatorFlag = () => ['--kubernetes-operator-roles', `ClusterRole/${operatorRole}`];
  const userStatus = () => JSON.parse(kubectlOk(['get', 'user', 'ada', '-n', namespace, '-o', 'json'])).status ?? {};
  const refused = () => (userStatus().conditions ?? []).find((c: { type: string }) => c.type === 'Refused');
  /** The ClusterRoles Rollcall bound for ada in the namespace (RoleBindings' roleRef names). */
  const boundRoles = () =>
    JSON.parse(kubectlOk(['get', 'rolebindings', '-n', namespace, '-l', `rollcall.dev/system=${namespace}.rbac`, '-o', 'json']))
      .items.map((binding: { roleRef: { name: string } }) => binding.roleRef.name)
      .sort();

  beforeAll(() => {
    namespace = createNamespace('attack-oprole');
    operatorRole = `rollcall-${namespace}`;
    // Stands for the chart's ClusterRole of the operator: what it may do, and a tenant must not get.
    kubectlOk(['create', 'clusterrole', operatorRole, '--verb=get,list,watch', '--resource=secrets,configmaps']);
    letTeamAWriteRollcall(namespace);
    const applied = asTeamA(
      ['apply', '-f', '-'],
      `apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: rbac}
spec: {type: kubernetes, deprovision: {policy: delete}, resyncInterval: 10m}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: everything}
spec:
  grants:
    - system: rbac
      entitlements: [ClusterRole/${operatorRole}@${namespace}, ClusterRole/edit@${namespace}, ClusterRole/view@${namespace}]
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: ada-everything}
spec: {role: everything, users: [ada]}
---
apiVersion: rollcall.dev/v1alpha1
kind: User
metadata: {name: ada}
spec: {userName: ada}
`,
    );
    expect(applied.code, applied.stderr).toBe(0);
  });

  afterAll(async () => {
    await rollcall?.stop();
    kubectl(['delete', 'clusterrole', operatorRole]);
  });

  it('refuses both, naming each binding and why, binds view, and creates no other RoleBinding', async () => {
    rollcall = startRollcall(namespace, operatorFlag()); // the default list of bindable ClusterRoles: view
    const condition = await eventually(() => {
      const found = refused();
      expect(found).toMatchObject({ status: 'True', reason: 'EntitlementRefused' });
      return found as { message: string };
    }, rollcall);
    expect(condition.message).toContain(`ClusterRole/${operatorRole}@${namespace} binds ClusterRole/${operatorRole}, the operator's own role`);
    expect(condition.message).toContain(
      `ClusterRole/edit@${namespace} binds ClusterRole edit, which is not among the ClusterRoles a cluster admin allowed binding (view)`,
    );
    await eventually(() => expect(boundRoles()).toEqual(['view']), rollcall);
    expect(userStatus().accounts.find((a: { system: string }) => a.system === 'rbac').entitlements).toEqual([`ClusterRole/view@${namespace}`]);
    expect(kubectl(['auth', 'can-i', 'get', 'secrets', '-n', namespace, '--as', 'ada']).stdout.trim()).toBe('no');
    expect(kubectl(['auth', 'can-i', 'impersonate', 'serviceaccounts', '-n', namespace, '--as', 'ada']).stdout.trim()).toBe('no');
  });

  it('rollcall plan, given the same flags, refuses the same two', () => {
    const plan = spawnSync(process.execPath, [ROLLCALL, 'plan', '--kubeconfig', inject('kubeconfig'), '--namespace', namespace, ...operatorFlag()], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(plan.stdout).toMatch(new RegExp(`! ada\\s+refused ClusterRole/${operatorRole}@${namespace}: .*the operator's own role`));
    expect(plan.stdout).toMatch(new RegExp(`! ada\\s+refused ClusterRole/edit@${namespace}: .*not among the ClusterRoles`));
    expect(plan.stdout).not.toContain('grant ClusterRole/');
    expect(plan.status, plan.stderr).toBe(0);
  });

  it("a cluster admin may list edit, but the operator's own role stays refused whatever the list says", async () => {
    await rollcall!.stop();
    rollcall = startRollcall(namespace, [...operatorFlag(), '--kubernetes-bindable-cluster-roles', `view,edit,${operatorRole}`]);
    await eventually(() => expect(boundRoles()).toEqual(['edit', 'view']), rollcall);
    const condition = await eventually(() => {
      const found = refused() as { status: string; message: string };
      expect(found.message).not.toContain('ClusterRole/edit');
      return found;
    }, rollcall);
    expect(condition).toMatchObject({ status: 'True', reason: 'EntitlementRefused' });
    expect(condition.message).toContain(`ClusterRole/${operatorRole}@${namespace} binds ClusterRole/${operatorRole}, the operator's own role`);
    expect(boundRoles()).not.toContain(operatorRole); // edit itself reads Secrets: what it grants, an admin chose
  });

  it("the chart passes the bindable list (view by default) and the operator's own roles, and never renders an empty bind rule", () => {
    const render = (...values: string[]) => {
      const rendered = helm(['template', 'rc', CHART, '--namespace', 'ops', '--set', 'kubernetesConnector.enabled=true', ...values]);
      expect(rendered.code, rendered.stderr).toBe(0);
      return rendered.stdout;
    };
    const byDefault = render();
    expect(byDefault).toContain('- --kubernetes-bindable-cluster-roles=view\n');
    expect(byDefault).toContain('- --kubernetes-operator-roles=ClusterRole/rc,Role/rc-leader-election@ops\n');
    expect(byDefault).toMatch(/verbs: \[bind\]\n\s*resourceNames: \["view"\]/);
    expect(render('--set', 'scim.enabled=true')).toContain(',Role/rc-leader-pod@ops\n');
    const none = render('--set', 'kubernetesConnector.bindableClusterRoles=null');
    expect(none).not.toContain('verbs: [bind]'); // resourceNames [] would allow every ClusterRole
    expect(none).toContain('- --kubernetes-bindable-cluster-roles=\n');
  });
});
