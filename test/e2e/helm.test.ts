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
});
