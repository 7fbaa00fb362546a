// helm install, upgrade and uninstall of the chart against a real API server of its own (the shared
// one's CRDs belong to the e2e setup's release, and this file deletes them), as docs/install.md says:
// the chart installs the CRDs, the admission policies and the approver ClusterRole; a second release
// without them does not collide; uninstall keeps the CRDs, the Rollcall objects and approval
// enforcement while crds.keep is true, and deletes them when it is false; a cluster set up by hand
// from crds/ is adopted with --take-ownership. No pod runs (there is no node): the objects are the test.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { buildControlPlane, startControlPlane, type ControlPlane } from '../servers/controlplane.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CHART = join(ROOT, 'charts', 'rollcall');
const POLICIES = ['accessbindings-approval', 'accessbindings-requester', 'accessbindings-approver-subjects', 'accessreviews-decisions'];

let controlPlane: ControlPlane;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}
function run(binary: string, args: string[], input?: string): Result {
  const result = spawnSync(binary, args, { input, encoding: 'utf8', env: { ...process.env, KUBECONFIG: controlPlane.kubeconfig }, timeout: 120_000 });
  return { code: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}
const kubectl = (args: string[], input?: string) => run('kubectl', args, input);
const helm = (...args: string[]) => run(inject('helm'), args);
function ok(result: Result): string {
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}
/** Names of the objects of these kinds that exist, as kubectl prints them (kind/name). */
const names = (kinds: string, ...args: string[]) =>
  ok(kubectl(['get', kinds, '-o', 'name', ...args]))
    .trim()
    .split('\n')
    .filter(Boolean);
const crds = () => names('crd', '-l', 'app.kubernetes.io/part-of=rollcall');
const policies = (release: string) => POLICIES.map((p) => `${release}-${p}.rollcall.dev`);

beforeAll(async () => {
  controlPlane = await startControlPlane(buildControlPlane().controlPlane);
  for (const ns of ['rollcall-system', 'second', 'team-a']) ok(kubectl(['create', 'namespace', ns]));
});
afterAll(async () => {
  await controlPlane?.stop();
});

describe('the chart owns what it installs', () => {
  it('helm install: the CRDs (kept on uninstall), the release-named admission policies in force, the approver ClusterRole', async () => {
    ok(helm('install', 'rollcall', CHART, '--namespace', 'rollcall-system'));
    expect(crds()).toHaveLength(6);
    ok(kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=rollcall']));
    expect(ok(kubectl(['get', 'crd', 'users.rollcall.dev', '-o', 'jsonpath={.metadata.annotations.helm\\.sh/resource-policy}']))).toBe('keep');
    expect(names('validatingadmissionpolicies').sort()).toEqual(
      policies('rollcall')
        .map((p) => `validatingadmissionpolicy.admissionregistration.k8s.io/${p}`)
        .sort(),
    );
    expect(names('validatingadmissionpolicybindings').sort()).toEqual(
      policies('rollcall')
        .map((p) => `validatingadmissionpolicybinding.admissionregistration.k8s.io/${p}`)
        .sort(),
    );
    expect(names('clusterrole', 'rollcall-approver')).toEqual(['clusterrole.rbac.authorization.k8s.io/rollcall-approver']);
    // The approver role, bound in one namespace, approves and reads there, and writes nothing else.
    ok(kubectl(['create', 'rolebinding', 'approvers', '--clusterrole', 'rollcall-approver', '--user', 'bob', '-n', 'team-a']));
    const can = (...args: string[]) => kubectl(['auth', 'can-i', ...args, '--as', 'bob']).stdout.trim();
    expect(can('approve', 'accessbindings.rollcall.dev', '-n', 'team-a')).toBe('yes');
    expect(can('approve', 'accessreviews.rollcall.dev', '-n', 'team-a')).toBe('yes');
    expect(can('list', 'users.rollcall.dev', '-n', 'team-a')).toBe('yes');
    for (const [verb, resource] of [
      ['create', 'accessbindings.rollcall.dev'],
      ['delete', 'accessbindings.rollcall.dev'],
      ['patch', 'users.rollcall.dev'],
      ['patch', 'accessroles.rollcall.dev'],
      ['get', 'secrets'],
    ]) {
      expect(can(verb!, resource!, '-n', 'team-a'), `${verb} ${resource}`).toBe('no');
    }
    expect(can('approve', 'accessbindings.rollcall.dev', '-n', 'second')).toBe('no');
    // In force: a binding naming another requester is refused by the API server.
    await eventually(
      () => {
        const forged = kubectl(
          ['apply', '-n', 'team-a', '-f', '-'],
          'apiVersion: rollcall.dev/v1alpha1\nkind: AccessBinding\nmetadata: {name: forged}\nspec: {role: admin, users: [alice], requestedBy: mallory}\n',
        );
        expect(forged.code).not.toBe(0);
        expect(forged.stderr).toMatch(/spec\.requestedBy must be your own user name/);
      },
      { timeoutMs: 60_000 },
    );
  });

  it('a second release without CRDs and policies installs beside it; one that would own them too is refused', () => {
    const refused = helm('install', 'other', CHART, '--namespace', 'second');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/CustomResourceDefinition "\w+\.rollcall\.dev" in namespace "" exists and cannot be imported into the current release/);
    ok(
      helm(
        'install',
        'second',
        CHART,
        '--namespace',
        'second',
        '--set',
        'crds.install=false',
        '--set',
        'admissionPolicies.install=false',
        '--set',
        'watchNamespaces={team-a}',
      ),
    );
    expect(names('deployment', '-n', 'second')).toEqual(['deployment.apps/second']);
    expect(names('validatingadmissionpolicies')).toHaveLength(4);
    ok(helm('uninstall', 'second', '--namespace', 'second'));
  });

  it('helm upgrade changes the Deployment and the CRDs with it', () => {
    ok(helm('upgrade', 'rollcall', CHART, '--namespace', 'rollcall-system', '--reuse-values', '--set', 'logLevel=debug', '--set', 'crds.keep=false'));
    expect(ok(kubectl(['get', 'deployment', 'rollcall', '-n', 'rollcall-system', '-o', 'jsonpath={.spec.template.spec.containers[0].args}']))).toContain(
      '--log-level=debug',
    );
    // The CRDs are templates: an upgrade updates them (here, their resource policy goes).
    expect(ok(kubectl(['get', 'crd', 'users.rollcall.dev', '-o', 'jsonpath={.metadata.annotations}']))).not.toContain('resource-policy');
    ok(helm('upgrade', 'rollcall', CHART, '--namespace', 'rollcall-system', '--reuse-values', '--set', 'crds.keep=true'));
    expect(ok(kubectl(['get', 'crd', 'users.rollcall.dev', '-o', 'jsonpath={.metadata.annotations.helm\\.sh/resource-policy}']))).toBe('keep');
  });

  it('helm uninstall (crds.keep true): Rollcall goes; the CRDs, the objects, the policies, their bindings and the approver ClusterRole stay', () => {
    ok(kubectl(['apply', '-n', 'team-a', '-f', '-'], 'apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: alice}\nspec: {userName: alice}\n'));
    const uninstalled = ok(helm('uninstall', 'rollcall', '--namespace', 'rollcall-system'));
    expect(uninstalled).toMatch(/kept due to the resource policy/);
    expect(names('deployment,serviceaccount,service', '-n', 'rollcall-system').filter((n) => !n.endsWith('/default'))).toEqual([]);
    expect(kubectl(['get', 'clusterrole', 'rollcall']).code).not.toBe(0);
    expect(crds()).toHaveLength(6);
    expect(names('users', '-n', 'team-a')).toEqual(['user.rollcall.dev/alice']);
    expect(names('validatingadmissionpolicies')).toHaveLength(4);
    expect(names('validatingadmissionpolicybindings')).toHaveLength(4);
    expect(names('clusterrole', 'rollcall-approver')).toHaveLength(1);
    // Enforcement did not go with Rollcall.
    const forged = kubectl(
      ['apply', '-n', 'team-a', '-f', '-'],
      'apiVersion: rollcall.dev/v1alpha1\nkind: AccessBinding\nmetadata: {name: forged}\nspec: {role: admin, users: [alice], requestedBy: mallory}\n',
    );
    expect(forged.stderr).toMatch(/spec\.requestedBy must be your own user name/);
  });

  it('installed again under the same name, the release takes back what it kept', () => {
    ok(helm('install', 'rollcall', CHART, '--namespace', 'rollcall-system'));
    expect(names('users', '-n', 'team-a')).toEqual(['user.rollcall.dev/alice']);
  });

  it('helm uninstall (crds.keep false): the CRDs, every Rollcall object and the policies go', async () => {
    ok(helm('upgrade', 'rollcall', CHART, '--namespace', 'rollcall-system', '--reuse-values', '--set', 'crds.keep=false'));
    ok(helm('uninstall', 'rollcall', '--namespace', 'rollcall-system'));
    await eventually(() => expect(crds()).toEqual([]), { timeoutMs: 60_000 });
    expect(names('validatingadmissionpolicies')).toEqual([]);
    expect(names('validatingadmissionpolicybindings')).toEqual([]);
    expect(kubectl(['get', 'clusterrole', 'rollcall-approver']).code).not.toBe(0);
  });

  it('a cluster set up by hand from crds/ (and the old fixed-name approver role) is adopted with --take-ownership', () => {
    ok(kubectl(['apply', '-f', join(ROOT, 'crds')]));
    ok(kubectl(['create', 'clusterrole', 'rollcall-approver', '--verb=get', '--resource=accessbindings.rollcall.dev']));
    const refused = helm('install', 'rollcall', CHART, '--namespace', 'rollcall-system');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/invalid ownership metadata/);
    ok(helm('install', 'rollcall', CHART, '--namespace', 'rollcall-system', '--take-ownership'));
    expect(ok(kubectl(['get', 'crd', 'users.rollcall.dev', '-o', 'jsonpath={.metadata.annotations.meta\\.helm\\.sh/release-name}']))).toBe('rollcall');
    expect(ok(kubectl(['get', 'clusterrole', 'rollcall-approver', '-o', 'jsonpath={.rules[0].verbs}']))).toContain('approve');
  });
});
