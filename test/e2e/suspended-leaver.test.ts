// A leaver deleted while its system is suspended keeps access nowhere once the system is back: the
// User's finalizer holds it (Ready=False, SystemSuspended) instead of letting it go with nothing
// done, and when spec.suspend is lifted the account is deprovisioned and only then is the User gone.
// On the real control plane, with a kubernetes system (the cluster's own RBAC answers can-i).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';
import { eventually, startRollcall, type RollcallRun } from './rollcall-run.ts';

describe('a User deleted while its system is suspended', () => {
  let namespace: string;
  let role: string;
  let rollcall: RollcallRun | undefined;

  const canGetPods = (user: string) => kubectl(['auth', 'can-i', 'get', 'pods', '-n', namespace, '--as', user]).stdout.trim() === 'yes';
  const user = () => {
    const found = kubectl(['get', 'user', 'ann', '-n', namespace, '-o', 'json']);
    return found.code === 0 ? JSON.parse(found.stdout) : undefined;
  };

  beforeAll(() => {
    namespace = createNamespace('suspended');
    role = `${namespace}-pod-reader`;
    kubectlOk(['create', 'clusterrole', role, '--verb=get,list', '--resource=pods']);
    kubectlOk(
      ['apply', '-f', '-'],
      [
        `apiVersion: rollcall.dev/v1alpha1\nkind: ConnectedSystem\nmetadata: {name: rbac, namespace: ${namespace}}\nspec: {type: kubernetes, deprovision: {policy: delete}}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: AccessRole\nmetadata: {name: reader, namespace: ${namespace}}\nspec: {grants: [{system: rbac, entitlements: [ClusterRole/${role}@${namespace}]}]}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: AccessBinding\nmetadata: {name: readers, namespace: ${namespace}}\nspec: {role: reader, users: [ann]}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: ann, namespace: ${namespace}}\nspec: {userName: ann}\n`,
      ].join('---\n'),
    );
    rollcall = startRollcall(namespace, ['--kubernetes-bindable-cluster-roles', role]);
  });

  afterAll(async () => {
    await rollcall?.stop();
    kubectl(['delete', 'clusterrole', role]);
  });

  it('holds the finalizer while suspended, then deprovisions and lets the User go when the system resumes', async () => {
    await eventually(() => expect(canGetPods('ann')).toBe(true), rollcall);

    kubectlOk(['patch', 'connectedsystem', 'rbac', '-n', namespace, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await eventually(() => {
      const system = JSON.parse(kubectlOk(['get', 'connectedsystem', 'rbac', '-n', namespace, '-o', 'json']));
      expect(system.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });
    }, rollcall);

    kubectlOk(['delete', 'user', 'ann', '-n', namespace, '--wait=false']);
    await eventually(() => {
      const ready = user()?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready');
      expect(ready, JSON.stringify(user()?.status)).toMatchObject({ status: 'False', reason: 'SystemSuspended' });
    }, rollcall);
    // Held, not released with nothing done: the User is still there, and nothing was changed meanwhile.
    expect(user()?.metadata?.deletionTimestamp).toBeDefined();
    expect(user()?.metadata?.finalizers).toContain('rollcall.dev/deprovision');
    expect(canGetPods('ann')).toBe(true);

    kubectlOk(['patch', 'connectedsystem', 'rbac', '-n', namespace, '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    await eventually(() => expect(canGetPods('ann')).toBe(false), rollcall);
    await eventually(() => expect(user()).toBeUndefined(), rollcall);
  });
});
