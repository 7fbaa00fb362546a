// The deletion guard is on without any spec.deletionGuard, counts revokes, and keeps its window in
// the ConnectedSystem's status. On the real control plane with a kubernetes system: six Users lose
// their RoleBinding (within the default limit of 10), `rollcall run` is killed and started again,
// then an AccessBinding deleted by mistake would revoke six more. Only the window kept in status
// makes that 12 > 10: the guard trips, the six keep their access until a person approves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';
import { eventually, startRollcall, type RollcallRun } from './rollcall-run.ts';

const TEAM_A = ['u01', 'u02', 'u03', 'u04', 'u05', 'u06'];
const TEAM_B = ['u07', 'u08', 'u09', 'u10', 'u11', 'u12'];

describe('the default deletion guard counts revokes and survives a restart', () => {
  let namespace: string;
  let role: string;
  let rollcall: RollcallRun | undefined;

  const canGetPods = (user: string) => kubectl(['auth', 'can-i', 'get', 'pods', '-n', namespace, '--as', user]).stdout.trim() === 'yes';
  const system = () => JSON.parse(kubectlOk(['get', 'connectedsystem', 'rbac', '-n', namespace, '-o', 'json']));
  const guardCondition = () => (system().status?.conditions ?? []).find((c: { type: string }) => c.type === 'DeletionGuardTripped');
  const user = (name: string) => JSON.parse(kubectlOk(['get', 'user', name, '-n', namespace, '-o', 'json']));

  beforeAll(() => {
    namespace = createNamespace('guard');
    role = `${namespace}-pod-reader`;
    kubectlOk(['create', 'clusterrole', role, '--verb=get,list', '--resource=pods']);
    const users = [...TEAM_A.map((n) => [n, 'a']), ...TEAM_B.map((n) => [n, 'b'])].map(
      ([name, team]) =>
        `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: ${name}, namespace: ${namespace}, labels: {team: ${team}}}\nspec: {userName: ${name}}\n`,
    );
    kubectlOk(
      ['apply', '-f', '-'],
      [
        // No deletionGuard: the default applies. resyncInterval is the guard's window.
        `apiVersion: rollcall.dev/v1alpha1\nkind: ConnectedSystem\nmetadata: {name: rbac, namespace: ${namespace}}\nspec: {type: kubernetes, deprovision: {policy: delete}, resyncInterval: 30m}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: AccessRole\nmetadata: {name: reader, namespace: ${namespace}}\nspec: {grants: [{system: rbac, entitlements: [ClusterRole/${role}@${namespace}]}]}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: AccessBinding\nmetadata: {name: team-a, namespace: ${namespace}}\nspec: {role: reader, userSelector: {matchLabels: {team: a}}}\n`,
        `apiVersion: rollcall.dev/v1alpha1\nkind: AccessBinding\nmetadata: {name: team-b, namespace: ${namespace}}\nspec: {role: reader, userSelector: {matchLabels: {team: b}}}\n`,
        ...users,
      ].join('---\n'),
    );
  });

  afterAll(async () => {
    await rollcall?.stop();
    kubectl(['delete', 'clusterrole', role]);
  });

  it('six revokes within the default limit go at once and are kept in status.recentDeprovisions', async () => {
    rollcall = startRollcall(namespace, ['--kubernetes-bindable-cluster-roles', role]);
    const ready = kubectl(['wait', '--for=condition=Ready', ...[...TEAM_A, ...TEAM_B].map((n) => `user/${n}`), '-n', namespace, '--timeout=90s']);
    expect(ready.code, ready.stderr + rollcall.logs.join('')).toBe(0);
    await eventually(() => expect([...TEAM_A, ...TEAM_B].every(canGetPods)).toBe(true), rollcall);

    kubectlOk(['delete', 'accessbinding', 'team-a', '-n', namespace]);
    await eventually(
      () =>
        expect(
          TEAM_A.filter(canGetPods),
          JSON.stringify(user('u01').status) + kubectl(['get', 'abind,rolebindings', '-n', namespace, '-o', 'yaml']).stdout,
        ).toEqual([]),
      rollcall,
    );
    await eventually(
      () => {
        expect(
          (system().status?.recentDeprovisions ?? []).map((r: { userName: string }) => r.userName).sort(),
          JSON.stringify(system().status) + JSON.stringify(user('u01').status),
        ).toEqual(TEAM_A);
      },
      rollcall,
      20_000,
    );
    expect(guardCondition()).toMatchObject({ status: 'False' });
  });

  it('after kill -9 and a restart, a mass revoke counts the window from status and trips the guard', async () => {
    await rollcall!.kill();
    rollcall = startRollcall(namespace, ['--kubernetes-bindable-cluster-roles', role]);
    kubectlOk(['delete', 'accessbinding', 'team-b', '-n', namespace]);

    const tripped = await eventually(() => {
      const found = guardCondition();
      expect(found).toMatchObject({ status: 'True', reason: 'TooManyDeprovisions' });
      return found as { message: string };
    }, rollcall);
    // 6 revokes pending + 6 made before the restart: only the window kept in status gets it past 10.
    expect(tripped.message).toContain('would disable, delete or revoke entitlements of 12 accounts, more than the deletion guard allows (10: the default');
    expect(tripped.message).toContain('rollcall.dev/approve-deprovision="12"');
    await eventually(
      () =>
        expect(user('u07').status.conditions.find((c: { type: string }) => c.type === 'Ready')).toMatchObject({
          status: 'False',
          reason: 'DeletionGuardTripped',
        }),
      rollcall,
    );
    expect(TEAM_B.filter(canGetPods)).toEqual(TEAM_B); // held: nobody lost access
    const events = kubectlOk(['get', 'events', '-n', namespace, '--field-selector', 'reason=GuardTripped', '-o', 'jsonpath={.items[*].message}']);
    expect(events).toContain('12 accounts');
  });

  it('approving the count shown lets the revokes through', async () => {
    kubectlOk(['annotate', 'connectedsystem', 'rbac', '-n', namespace, 'rollcall.dev/approve-deprovision=12']);
    await eventually(() => expect(TEAM_B.filter(canGetPods)).toEqual([]), rollcall);
    await eventually(() => expect(guardCondition()).toMatchObject({ status: 'False' }), rollcall);
  });
});
