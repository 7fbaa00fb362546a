// The Helm chart lints, renders, and what it renders is accepted by the real API server.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { helm, kubectl } from './kube.ts';

const CHART = join(import.meta.dirname, '..', '..', 'charts', 'rollcall');

/** The arguments of the rollcall container in the Deployment the chart renders with `values`. */
function deploymentArgs(...values: string[]): string[] {
  const rendered = helm(['template', 'rollcall', CHART, '--namespace', 'default', ...values]);
  expect(rendered.code, rendered.stderr).toBe(0);
  const deployment = parseAllDocuments(rendered.stdout)
    .map((d) => d.toJS() as { kind: string; spec: { template: { spec: { containers: Array<{ args: string[] }> } } } })
    .find((o) => o?.kind === 'Deployment')!;
  return deployment.spec.template.spec.containers[0]!.args;
}

describe('charts/rollcall', () => {
  it('passes helm lint', () => {
    const result = helm(['lint', CHART]);
    expect(result.stderr + result.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(result.code).toBe(0);
  });

  for (const values of [
    [],
    ['--set', 'kubernetesConnector.enabled=true', '--set', 'watchNamespace=team-a'],
    ['--set', 'watchNamespaces={team-a,team-b}', '--set', 'kubernetesConnector.enabled=true', '--set', 'kubernetesConnector.namespaces={team-a}'],
  ]) {
    it(`renders manifests the API server accepts (server-side dry run) ${values.join(' ')}`, () => {
      // The Roles of watched namespaces go into them: they must exist (AlreadyExists is fine).
      for (const namespace of ['team-a', 'team-b']) kubectl(['create', 'namespace', namespace]);
      // Not "rollcall": the e2e setup installed that release (its CRDs are the ones these update).
      // A second release: the setup's owns the CRDs and the admission policies.
      const rendered = helm([
        'template',
        'dry',
        CHART,
        '--namespace',
        'default',
        '--set',
        'crds.install=false',
        '--set',
        'admissionPolicies.install=false',
        ...values,
      ]);
      expect(rendered.code, rendered.stderr).toBe(0);
      expect(rendered.stdout).toMatch(/kind: Deployment/);
      const applied = kubectl(['apply', '--dry-run=server', '-f', '-'], rendered.stdout);
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
      expect(applied.stdout).toMatch(/deployment\.apps\/dry created \(server dry run\)/);
      expect(applied.stdout).toMatch(/clusterrole\.rbac\.authorization\.k8s\.io\/dry created \(server dry run\)/);
      expect(applied.stdout).not.toMatch(/customresourcedefinition|validatingadmissionpolic/);
    });
  }

  describe('values.schema.json refuses bad values before anything is rendered', () => {
    const refused: Array<[string[], RegExp]> = [
      [['--set', 'replicas=two'], /at '\/replicas': got string, want integer/],
      [['--set', 'replica=2'], /additional properties 'replica' not allowed/],
      [['--set', 'crds.keeep=false'], /at '\/crds': additional properties 'keeep' not allowed/],
      [['--set', 'logLevel=verbose'], /at '\/logLevel': value must be one of/],
      [['--set', 'topologySpread.whenUnsatisfiable=Never'], /at '\/topologySpread\/whenUnsatisfiable': value must be one of/],
      [['--set', 'watchNamespaces={Team_A}'], /at '\/watchNamespaces\/0': '.*' does not match pattern/],
      [['--set', 'metrics.port=0'], /at '\/metrics\/port': minimum: got 0, want 1/],
      [['--set', 'networkPolicy.egressTo[0].ipBlok.cidr=10.0.0.0/8'], /additional properties 'ipBlok' not allowed/],
    ];
    for (const [values, message] of refused) {
      it(`refuses ${values.join(' ')}`, () => {
        const rendered = helm(['template', 'bad', CHART, ...values]);
        expect(rendered.code).not.toBe(0);
        expect(rendered.stderr).toMatch(/values don't meet the specifications of the schema/);
        expect(rendered.stderr).toMatch(message);
      });
    }

    it('accepts every value documented, each feature on', () => {
      const rendered = helm([
        'template',
        'good',
        CHART,
        '--set',
        'metrics.serviceMonitor.enabled=true',
        '--set',
        'metrics.prometheusRule.enabled=true',
        '--set',
        'metrics.grafanaDashboard.enabled=true',
        '--set',
        'networkPolicy.enabled=true',
        '--set',
        'networkPolicy.egressTo[0].ipBlock.cidr=10.0.0.0/8',
        '--set',
        'state.existingClaim=rollcall-state',
        '--set',
        'logFormat=text',
      ]);
      expect(rendered.code, rendered.stderr).toBe(0);
      const kinds = parseAllDocuments(rendered.stdout).map((d) => (d.toJS() as { kind?: string } | null)?.kind);
      expect(kinds).toEqual(expect.arrayContaining(['ServiceMonitor', 'PrometheusRule', 'NetworkPolicy', 'ConfigMap', 'PodDisruptionBudget']));
      expect(rendered.stdout).toContain('claimName: "rollcall-state"');
      expect(rendered.stdout).toContain('- --log-format=text');
    });
  });

  it('runs with restricted pod security, probes on /healthz and /readyz, spread and a disruption budget for its two replicas', () => {
    const rendered = helm(['template', 'rollcall', CHART, '--namespace', 'default']);
    expect(rendered.code, rendered.stderr).toBe(0);
    const objects = parseAllDocuments(rendered.stdout)
      .map((d) => d.toJS() as { kind: string; spec: Record<string, unknown> } | null)
      .filter((o) => o !== null);
    const deployment = objects.find((o) => o.kind === 'Deployment')! as unknown as {
      spec: {
        replicas: number;
        template: { spec: Record<string, unknown> & { containers: Array<Record<string, unknown>>; securityContext: Record<string, unknown> } };
      };
    };
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0]!;
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'metrics' } });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'metrics' } });
    expect(container.resources).toMatchObject({ requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '256Mi' } });
    expect(container.volumeMounts).toContainEqual({ name: 'state', mountPath: '/var/lib/rollcall' });
    expect(pod.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'rollcall', 'app.kubernetes.io/instance': 'rollcall' } },
      },
    ]);
    expect(objects.find((o) => o.kind === 'PodDisruptionBudget')?.spec).toMatchObject({ maxUnavailable: 1 });
    // One replica: no budget (it would block every drain).
    expect(helm(['template', 'rollcall', CHART, '--set', 'replicas=1']).stdout).not.toContain('kind: PodDisruptionBudget');
  });

  describe('inbound SCIM', () => {
    interface Rendered {
      kind: string;
      metadata: { name: string };
      spec?: Record<string, unknown>;
      rules?: unknown[];
      roleRef?: { name: string };
    }
    const render = (...values: string[]) => {
      const rendered = helm(['template', 'rollcall', CHART, '--namespace', 'default', ...values]);
      expect(rendered.code, rendered.stderr).toBe(0);
      return {
        text: rendered.stdout,
        objects: parseAllDocuments(rendered.stdout)
          .map((d) => d.toJS() as Rendered)
          .filter(Boolean),
      };
    };
    const container = (objects: Rendered[]) => {
      const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as {
        spec: {
          template: {
            spec: {
              containers: Array<{
                args: string[];
                env: Array<{ name: string }>;
                ports: Array<{ name: string; containerPort: number }>;
                volumeMounts?: unknown[];
              }>;
              volumes?: unknown[];
            };
          };
        };
      };
      return { pod: deployment.spec.template.spec, container: deployment.spec.template.spec.containers[0]! };
    };

    it('is off by default: no SCIM port, argument, Service or pod permissions', () => {
      const { objects } = render();
      const { container: rollcall } = container(objects);
      expect(rollcall.args.filter((a) => a.startsWith('--scim') || a.startsWith('--leader-pod'))).toEqual([]);
      expect(rollcall.ports.map((p) => p.name)).toEqual(['metrics']);
      expect(objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.name)).toEqual(['rollcall-metrics']);
      expect(objects.filter((o) => o.kind === 'Role').map((o) => o.metadata.name)).toEqual(['rollcall-leader-election']);
    });

    it('enabled with a TLS Secret: the port, the arguments, the mounted Secret, a Service to the leader and the Role it needs; the API server accepts them', () => {
      const { text, objects } = render(
        '--set',
        'scim.enabled=true',
        '--set',
        'scim.port=9443',
        '--set',
        'scim.tlsSecretName=rollcall-scim-tls',
        '--set',
        'scim.service.port=8443',
      );
      const { pod, container: rollcall } = container(objects);
      expect(rollcall.args).toEqual(
        expect.arrayContaining([
          '--scim-port=9443',
          '--leader-pod=$(POD_NAME)',
          '--scim-tls-cert=/etc/rollcall/scim-tls/tls.crt',
          '--scim-tls-key=/etc/rollcall/scim-tls/tls.key',
        ]),
      );
      expect(rollcall.env).toEqual(expect.arrayContaining([{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]));
      expect(rollcall.ports).toEqual(expect.arrayContaining([{ name: 'scim', containerPort: 9443 }]));
      expect(rollcall.volumeMounts).toContainEqual({ name: 'scim-tls', mountPath: '/etc/rollcall/scim-tls', readOnly: true });
      expect(pod.volumes).toContainEqual({ name: 'scim-tls', secret: { secretName: 'rollcall-scim-tls' } });

      const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'rollcall-scim')!;
      expect(service.spec).toMatchObject({
        type: 'ClusterIP',
        selector: { 'app.kubernetes.io/name': 'rollcall', 'app.kubernetes.io/instance': 'rollcall', 'rollcall.dev/leader': 'true' },
        ports: [{ name: 'https', port: 8443, targetPort: 'scim' }],
      });
      const role = objects.find((o) => o.kind === 'Role' && o.metadata.name === 'rollcall-leader-pod')!;
      expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'patch'] }]);
      expect(objects.find((o) => o.kind === 'RoleBinding' && o.roleRef?.name === 'rollcall-leader-pod')).toBeDefined();

      // The objects of the release namespace: the cluster-wide ones are the e2e setup's release "rollcall".
      const namespaced = parseAllDocuments(text).filter((d) => (d.toJS() as { metadata?: { namespace?: string } } | null)?.metadata?.namespace === 'default');
      const applied = kubectl(['apply', '--dry-run=server', '-f', '-'], namespaced.map((d) => d.toString()).join('---\n'));
      expect(applied.stderr).toBe('');
      expect(applied.stdout).toMatch(/service\/rollcall-scim created \(server dry run\)/);
      expect(applied.stdout).toMatch(/role\.rbac\.authorization\.k8s\.io\/rollcall-leader-pod created \(server dry run\)/);
    });

    it('enabled without TLS: plain HTTP, no certificate arguments or volume', () => {
      const { objects } = render('--set', 'scim.enabled=true');
      const { pod, container: rollcall } = container(objects);
      expect(rollcall.args).toContain('--scim-port=8443');
      expect(rollcall.args.filter((a) => a.startsWith('--scim-tls'))).toEqual([]);
      expect((pod.volumes as Array<{ name: string }>).map((v) => v.name)).toEqual(['state', 'tmp']);
      const service = objects.find((o) => o.metadata.name === 'rollcall-scim')!;
      expect(service.spec).toMatchObject({ ports: [{ name: 'http', port: 443, targetPort: 'scim' }] });
    });
  });

  it('renders one --namespace per watched namespace, and --metrics-system-labels only when asked', () => {
    expect(deploymentArgs().filter((a) => a.startsWith('--namespace') || a.startsWith('--metrics'))).toEqual([]);
    expect(
      deploymentArgs('--set', 'watchNamespaces={team-a,team-b}', '--set', 'watchNamespace=team-c', '--set', 'metrics.systemLabels=true').filter(
        (a) => a.startsWith('--namespace') || a.startsWith('--metrics'),
      ),
    ).toEqual(['--namespace=team-a', '--namespace=team-b', '--namespace=team-c', '--metrics-system-labels']);
  });

  it('passes the API server deadlines on only when set, and refuses a deadline that is not a positive number', () => {
    const args = (...values: string[]) => deploymentArgs(...values).filter((a) => a.startsWith('--request-timeout') || a.startsWith('--watch-silent-after'));
    expect(args()).toEqual([]);
    expect(args('--set', 'apiServer.requestTimeoutSeconds=45', '--set', 'apiServer.watchSilentAfterSeconds=60')).toEqual([
      '--request-timeout=45',
      '--watch-silent-after=60',
    ]);
    const refused = helm(['template', 'bad', CHART, '--set', 'apiServer.requestTimeoutSeconds=0']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/at '\/apiServer\/requestTimeoutSeconds'/);
  });

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
      '--set',
      'kubernetesConnector.allow[0].namespace=platform',
      '--set',
      'kubernetesConnector.allow[0].cluster=true',
      '--set',
      'kubernetesConnector.allow[1].namespace=web-team',
      '--set',
      'kubernetesConnector.allow[1].namespaces={web,db}',
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
