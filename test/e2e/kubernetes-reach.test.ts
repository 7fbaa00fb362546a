// A namespace is a tenant: whoever may create Rollcall objects in one must not get access beyond it
// through the operator. On the real control plane, `rollcall run` with a kubernetes ConnectedSystem
// binds inside the system's namespace, refuses a cluster-wide and a cross-namespace entitlement
// (named in the User's status with why), and binds them once a cluster admin's --kubernetes-allow
// permits it. What a user may do is asked of the API server's own authorizer (kubectl auth can-i).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';
import { eventually, startRollcall, type RollcallRun } from './rollcall-run.ts';

const ROLLCALL = join(import.meta.dirname, '..', '..', 'bin', 'rollcall.js');

describe('kubernetes ConnectedSystem confined to its namespace', () => {
  let home: string;
  let other: string;
  let elsewhere: string;
  let role: string;
  let rollcall: RollcallRun | undefined;

  const canGetPods = (namespace: string) => kubectl(['auth', 'can-i', 'get', 'pods', '-n', namespace, '--as', 'ada']).stdout.trim() === 'yes';
  const userStatus = () => JSON.parse(kubectlOk(['get', 'user', 'ada', '-n', home, '-o', 'json'])).status ?? {};
  const condition = (type: string) => (userStatus().conditions ?? []).find((c: { type: string }) => c.type === type);
  // Its own ClusterRole is listed bindable, as a cluster admin would list it (default: view only).
  const bindable = () => ['--kubernetes-bindable-cluster-roles', role];
  const clusterBindings = () => kubectlOk(['get', 'clusterrolebindings', '-l', `rollcall.dev/system=${home}.rbac`, '-o', 'name']).trim();

  beforeAll(() => {
    home = createNamespace('reach');
    other = createNamespace('reach-other');
    elsewhere = createNamespace('reach-else');
    role = `${home}-pod-reader`;
    // Its own role: the test control plane runs no controller-manager, so view and edit are not aggregated.
    kubectlOk(['create', 'clusterrole', role, '--verb=get,list', '--resource=pods']);
    kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: rbac, namespace: ${home}}
spec: {type: kubernetes, deprovision: {policy: delete}, resyncInterval: 10m}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: reader, namespace: ${home}}
spec:
  grants:
    - system: rbac
      entitlements: [ClusterRole/${role}@${home}, ClusterRole/${role}, ClusterRole/${role}@${other}]
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: ada-reads, namespace: ${home}}
spec: {role: reader, users: [ada]}
---
apiVersion: rollcall.dev/v1alpha1
kind: User
metadata: {name: ada, namespace: ${home}}
spec: {userName: ada}
`,
    );
  });

  afterAll(async () => {
    await rollcall?.stop();
    kubectl(['delete', 'clusterrolebindings', '-l', `rollcall.dev/system=${home}.rbac`]);
    kubectl(['delete', 'clusterrole', role]);
  });

  it('binds in its own namespace and refuses cluster-wide and another namespace, saying why in the User status', async () => {
    rollcall = startRollcall(home, bindable());
    const refused = await eventually(() => {
      const found = condition('Refused');
      expect(found).toMatchObject({ status: 'True', reason: 'EntitlementRefused' });
      return found as { message: string };
    }, rollcall);
    expect(refused.message).toContain(
      `ClusterRole/${role} would bind cluster-wide (a ClusterRoleBinding), and ConnectedSystem ${home}/rbac may bind only inside namespace ${home}`,
    );
    expect(refused.message).toContain(`ClusterRole/${role}@${other} would bind in namespace ${other}`);
    expect(refused.message).toContain(`--kubernetes-allow ${home}=cluster`);
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'Refused' });
    const account = userStatus().accounts.find((a: { system: string }) => a.system === 'rbac');
    expect(account).toMatchObject({ state: 'present', entitlements: [`ClusterRole/${role}@${home}`] });
    expect(account.message).toContain('refused');

    await eventually(() => expect(canGetPods(home)).toBe(true), rollcall);
    expect(canGetPods(other)).toBe(false);
    expect(canGetPods(elsewhere)).toBe(false); // no cluster-wide binding either
    expect(clusterBindings()).toBe('');
    expect(kubectlOk(['get', 'rolebindings', '-n', other, '-l', 'app.kubernetes.io/managed-by=rollcall', '-o', 'name']).trim()).toBe('');
    const events = kubectlOk(['get', 'events', '-n', home, '--field-selector', 'reason=Refused', '-o', 'jsonpath={.items[*].message}']);
    expect(events).toContain(`ClusterRole/${role}@${other}`);
  });

  it('rollcall plan, given the same flags as run, shows what run does', () => {
    const plan = (...flags: string[]) =>
      spawnSync(process.execPath, [ROLLCALL, 'plan', '--kubeconfig', inject('kubeconfig'), '--namespace', home, ...flags], {
        encoding: 'utf8',
        timeout: 60_000,
      });
    const confined = plan(...bindable());
    expect(confined.stdout).toMatch(new RegExp(`! ada\\s+refused ClusterRole/${role}: .*would bind cluster-wide`));
    expect(confined.stdout).toContain(`refused ClusterRole/${role}@${other}`);
    expect(confined.status, confined.stderr).toBe(0); // nothing else to do: the run already converged
    const allowed = plan(...bindable(), '--kubernetes-allow', `${home}=cluster`, '--kubernetes-allow', `${home}=namespaces:${other}`);
    expect(allowed.stdout).toMatch(new RegExp(`\\+ ada\\s+grant ClusterRole/${role}\\n`));
    expect(allowed.stdout).toMatch(new RegExp(`\\+ ada\\s+grant ClusterRole/${role}@${other}`));
    expect(allowed.stdout).not.toContain('refused');
    expect(allowed.status, allowed.stderr).toBe(2);
  });

  it("a cluster admin's --kubernetes-allow makes both work, and the refusal goes", async () => {
    await rollcall!.stop();
    rollcall = startRollcall(home, [...bindable(), '--kubernetes-allow', `${home}=cluster`, '--kubernetes-allow', `${home}=namespaces:${other}`]);
    await eventually(() => expect(condition('Refused')).toMatchObject({ status: 'False' }), rollcall);
    expect(condition('Ready')).toMatchObject({ status: 'True', reason: 'InSync' });
    expect(userStatus().accounts.find((a: { system: string }) => a.system === 'rbac').entitlements).toEqual(
      [`ClusterRole/${role}`, `ClusterRole/${role}@${home}`, `ClusterRole/${role}@${other}`].sort(),
    );
    await eventually(() => {
      expect(canGetPods(other)).toBe(true);
      expect(canGetPods(elsewhere)).toBe(true); // through the ClusterRoleBinding
    }, rollcall);
    expect(clusterBindings()).toMatch(/^clusterrolebinding\.rbac\.authorization\.k8s\.io\/rollcall-ada-/);
  });

  it('withdrawing the allowance revokes what it had allowed (an upgrade from an unconfined version does the same)', async () => {
    await rollcall!.stop();
    rollcall = startRollcall(home, bindable());
    await eventually(() => expect(condition('Refused')).toMatchObject({ status: 'True', reason: 'EntitlementRefused' }), rollcall);
    await eventually(() => {
      expect(canGetPods(other)).toBe(false);
      expect(canGetPods(elsewhere)).toBe(false);
    }, rollcall);
    expect(canGetPods(home)).toBe(true);
    expect(clusterBindings()).toBe('');
    expect(userStatus().accounts.find((a: { system: string }) => a.system === 'rbac').entitlements).toEqual([`ClusterRole/${role}@${home}`]);
  });

  it('a malformed allowance stops the start with a message naming the flag', async () => {
    const bad = startRollcall(home, ['--kubernetes-allow', `${home}=everything`]);
    await eventually(() => expect(bad.logs.join('')).toContain('--kubernetes-allow'), bad, 30_000);
    expect(bad.logs.join('')).toContain('unknown grant "everything"');
    await bad.stop();
  });
});
