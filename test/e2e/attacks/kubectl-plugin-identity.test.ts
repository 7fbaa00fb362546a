// `kubectl rollcall plan/audit` read the cluster as the identity kubectl would use: --as, --as-group
// and --context reach the API server (impersonation headers, the chosen context), so a tenant cannot
// use the plugin to read another namespace's Users through the kubeconfig's own, broader identity.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createNamespace, kubectlOk } from '../kube.ts';

const PLUGIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'kubectl-rollcall');

describe('kubectl rollcall plan and audit act as --as, --as-group and --context', () => {
  let mine: string;
  let other: string;
  let kubeconfig: string;
  const plugin = (args: string[]) => {
    const result = spawnSync(process.execPath, [PLUGIN, ...args], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: kubeconfig } });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  };
  const asTenant = ['--as', 'mallory', '--as-group', 'team-mine'];

  beforeAll(() => {
    mine = createNamespace('plugin-mine');
    other = createNamespace('plugin-other');
    // A copy of the admin kubeconfig with a second context of another name, for --context.
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'rollcall-plugin-')), 'kubeconfig');
    copyFileSync(inject('kubeconfig'), kubeconfig);
    const cluster = kubectlOk(['--kubeconfig', kubeconfig, 'config', 'view', '-o', 'jsonpath={.contexts[0].context.cluster}']);
    const user = kubectlOk(['--kubeconfig', kubeconfig, 'config', 'view', '-o', 'jsonpath={.contexts[0].context.user}']);
    kubectlOk(['--kubeconfig', kubeconfig, 'config', 'set-context', 'tenant', `--cluster=${cluster}`, `--user=${user}`]);
    kubectlOk(
      ['apply', '-f', '-'],
      `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: ${mine}}
rules: [{apiGroups: [rollcall.dev], resources: [connectedsystems, users, accessroles, accessbindings, identitysources, accessreviews], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: readers, namespace: ${mine}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: team-mine}]
---
apiVersion: rollcall.dev/v1alpha1
kind: User
metadata: {name: secret-hire, namespace: ${other}}
spec: {userName: secret-hire}
`,
    );
  });

  it('audit -n OTHER --as a user who may not list it there is refused (403), not answered as the admin', () => {
    const refused = plugin(['audit', '-n', other, ...asTenant]);
    expect(refused.code, refused.stdout).toBe(1);
    expect(refused.stderr).toMatch(/403|forbidden/i);
    expect(refused.stdout).not.toMatch(/secret-hire/);
    // Without --as the kubeconfig's admin identity reads it: the refusal above is the impersonation's.
    expect(plugin(['audit', '-n', other]).code).toBe(0);
  });

  it('audit and plan of their own namespace work as that user; the group is sent (without it, mallory may read nothing)', () => {
    expect(plugin(['audit', '-n', mine, ...asTenant])).toMatchObject({ code: 0 });
    expect(plugin(['plan', '-n', mine, ...asTenant])).toMatchObject({ code: 0 });
    const withoutGroup = plugin(['audit', '-n', mine, '--as', 'mallory']);
    expect(withoutGroup.code).toBe(1);
    expect(withoutGroup.stderr).toMatch(/403|forbidden/i);
  });

  it('--context picks the context, and one that does not exist is refused by name', () => {
    expect(plugin(['audit', '-n', mine, '--context', 'tenant', ...asTenant])).toMatchObject({ code: 0 });
    const missing = plugin(['audit', '-n', mine, '--context', 'nowhere']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--context nowhere: no such context/);
  });
});
