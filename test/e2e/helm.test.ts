// The Helm chart lints, renders, and what it renders is accepted by the real API server.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helm, kubectl } from './kube.ts';

const CHART = join(import.meta.dirname, '..', '..', 'charts', 'rollcall');

describe('charts/rollcall', () => {
  it('passes helm lint', () => {
    const result = helm(['lint', CHART]);
    expect(result.stderr + result.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(result.code).toBe(0);
  });

  for (const values of [[], ['--set', 'kubernetesConnector.enabled=true', '--set', 'watchNamespace=team-a']]) {
    it(`renders manifests the API server accepts (server-side dry run) ${values.join(' ')}`, () => {
      const rendered = helm(['template', 'rollcall', CHART, '--namespace', 'default', ...values]);
      expect(rendered.code, rendered.stderr).toBe(0);
      expect(rendered.stdout).toMatch(/kind: Deployment/);
      const applied = kubectl(['apply', '--dry-run=server', '-f', '-'], rendered.stdout);
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
      expect(applied.stdout).toMatch(/deployment\.apps\/rollcall created \(server dry run\)/);
      expect(applied.stdout).toMatch(/clusterrole\.rbac\.authorization\.k8s\.io\/rollcall created \(server dry run\)/);
    });
  }

  it('the kubernetes connector may write ClusterRoleBindings only when kubernetesConnector.allow gives a namespace cluster: true', () => {
    const render = (...values: string[]) => {
      const rendered = helm(['template', 'rollcall', CHART, '--namespace', 'default', '--set', 'kubernetesConnector.enabled=true', ...values]);
      expect(rendered.code, rendered.stderr).toBe(0);
      return rendered.stdout;
    };
    const clusterBindingVerbs = (rendered: string) => /resources: \[clusterrolebindings\]\n(?:\s*#.*\n)*\s*verbs: \[([^\]]*)\]/.exec(rendered)?.[1];

    const confined = render();
    expect(clusterBindingVerbs(confined)).toBe('get, list, watch');
    expect(confined).not.toContain('--kubernetes-allow');

    const allowed = render(
      '--set', 'kubernetesConnector.allow[0].namespace=platform',
      '--set', 'kubernetesConnector.allow[0].cluster=true',
      '--set', 'kubernetesConnector.allow[1].namespace=web-team',
      '--set', 'kubernetesConnector.allow[1].namespaces={web,db}',
    );
    expect(clusterBindingVerbs(allowed)).toBe('get, list, watch, create, update, patch, delete');
    expect(allowed).toContain('- --kubernetes-allow=platform=cluster\n');
    expect(allowed).toContain('- --kubernetes-allow=web-team=namespaces:web,db\n');

    // Namespaces only: still no cluster-wide write.
    const namespacesOnly = render('--set', 'kubernetesConnector.allow[0].namespace=web-team', '--set', 'kubernetesConnector.allow[0].namespaces={web}');
    expect(clusterBindingVerbs(namespacesOnly)).toBe('get, list, watch');
    const applied = kubectl(['apply', '--dry-run=server', '-f', '-'], allowed);
    expect(applied.code, applied.stderr).toBe(0);
  });
});
