// Least privilege of the Helm chart, asked of the real API server: the chart's RBAC objects are
// created (helm template of the RBAC templates, kubectl apply: helm install would also own the
// admission policies the e2e setup already installed), then `kubectl auth can-i` impersonates the
// chart's ServiceAccount. With watchNamespaces set, Rollcall reads Secrets and ConfigMaps only there,
// writes RoleBindings only where the kubernetes connector is on, binds only the roles listed by name
// (never its own) and impersonates nobody. No rule of any kind holds a wildcard.
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadKubeConfig } from '../../../src/store/kube-config.ts';
import { KubeStore } from '../../../src/store/kube-store.ts';
import { parseAllDocuments, stringify } from 'yaml';
import { createNamespace, helm, kubectl, kubectlOk } from '../kube.ts';

const CHART = join(import.meta.dirname, '..', '..', '..', 'charts', 'rollcall');
const RBAC_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

type Rendered = { kind: string; metadata: { name: string; namespace?: string }; rules?: Rule[] };

/** Renders the chart as `release` in `namespace` with `values`, applies its RBAC objects, returns them. */
function install(release: string, namespace: string, values: string[]): Rendered[] {
  const rendered = helm(['template', release, CHART, '--namespace', namespace, ...values]);
  expect(rendered.code, rendered.stderr).toBe(0);
  const rbac = parseAllDocuments(rendered.stdout)
    .map((d) => d.toJS() as Rendered | null)
    .filter((o): o is Rendered => o !== null && RBAC_KINDS.includes(o.kind) && o.metadata.name.startsWith(release));
  kubectlOk(['apply', '-f', '-'], rbac.map((o) => stringify(o)).join('---\n'));
  return rbac;
}

/** `kubectl auth can-i` as the chart's ServiceAccount: "yes" or "no". */
function canI(serviceAccount: string, ...args: string[]): string {
  const result = kubectl(['auth', 'can-i', ...args, `--as=${serviceAccount}`]);
  expect(result.stderr.replace(/^Warning: .*$/gm, '').trim(), `can-i ${args.join(' ')}`).toBe('');
  return result.stdout.trim();
}

describe('the chart grants Rollcall no more than the namespaces it serves', () => {
  let teamA: string;
  let teamB: string;
  let other: string;
  let release: string;
  let sa: string;
  let objects: ReturnType<typeof install>;

  beforeAll(() => {
    const home = createNamespace('rollcall-system');
    teamA = createNamespace('team-a');
    teamB = createNamespace('team-b');
    other = createNamespace('other');
    release = `rc-${Math.random().toString(36).slice(2, 8)}`;
    sa = `system:serviceaccount:${home}:${release}`;
    objects = install(release, home, [
      '--set',
      `watchNamespaces={${teamA},${teamB}}`,
      '--set',
      'kubernetesConnector.enabled=true',
      '--set',
      `kubernetesConnector.namespaces={${teamA}}`,
    ]);
  });

  it('reads Secrets and ConfigMaps in the watched namespaces only', () => {
    for (const ns of [teamA, teamB]) {
      expect(canI(sa, 'get', 'secrets', '-n', ns), ns).toBe('yes');
      expect(canI(sa, 'get', 'configmaps', '-n', ns), ns).toBe('yes');
      expect(canI(sa, 'list', 'users.rollcall.dev', '-n', ns), ns).toBe('yes');
    }
    for (const ns of [other, 'kube-system', 'default']) {
      expect(canI(sa, 'get', 'secrets', '-n', ns), ns).toBe('no');
      expect(canI(sa, 'get', 'configmaps', '-n', ns), ns).toBe('no');
      expect(canI(sa, 'list', 'users.rollcall.dev', '-n', ns), ns).toBe('no');
    }
    expect(canI(sa, 'get', 'secrets', '--all-namespaces')).toBe('no');
    expect(canI(sa, 'list', 'secrets', '-n', teamA)).toBe('no');
  });

  it('writes RoleBindings only where the kubernetes connector is on, and ClusterRoleBindings nowhere', () => {
    expect(canI(sa, 'create', 'rolebindings', '-n', teamA)).toBe('yes');
    expect(canI(sa, 'delete', 'rolebindings', '-n', teamA)).toBe('yes');
    for (const ns of [teamB, other, 'kube-system']) {
      expect(canI(sa, 'create', 'rolebindings', '-n', ns), ns).toBe('no');
      expect(canI(sa, 'patch', 'rolebindings', '-n', ns), ns).toBe('no');
    }
    expect(canI(sa, 'create', 'clusterrolebindings')).toBe('no');
    // Its listing is cluster-wide: reading RoleBindings stays possible everywhere.
    expect(canI(sa, 'list', 'rolebindings', '--all-namespaces')).toBe('yes');
  });

  it('binds only the roles listed by name, never its own ClusterRole, and impersonates nobody', () => {
    expect(canI(sa, 'bind', 'clusterroles/view', '-n', teamA)).toBe('yes');
    expect(canI(sa, 'bind', 'clusterroles/view', '-n', teamB)).toBe('no');
    expect(canI(sa, 'bind', 'clusterroles/view')).toBe('no');
    for (const ns of [teamA, teamB]) {
      expect(canI(sa, 'bind', `clusterroles/${release}`, '-n', ns), ns).toBe('no');
      expect(canI(sa, 'bind', 'clusterroles/cluster-admin', '-n', ns), ns).toBe('no');
      expect(canI(sa, 'escalate', 'clusterroles', '-n', ns), ns).toBe('no');
      for (const kind of ['users', 'groups', 'serviceaccounts']) expect(canI(sa, 'impersonate', kind, '-n', ns), `${kind} in ${ns}`).toBe('no');
    }
    expect(canI(sa, 'bind', `clusterroles/${release}`)).toBe('no');
    for (const kind of ['users', 'groups', 'serviceaccounts']) expect(canI(sa, 'impersonate', kind), kind).toBe('no');
  });

  it("Rollcall's store, as the chart's ServiceAccount, watches the watched namespaces with what the Roles grant", async () => {
    for (const ns of [teamA, teamB, other])
      kubectlOk(['apply', '-n', ns, '-f', '-'], `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: in-${ns}}\nspec: {userName: in-${ns}}\n`);
    const store = new KubeStore({
      kubeconfig: loadKubeConfig(inject('kubeconfig'), { as: sa }),
      namespaces: [teamA, teamB],
      logger: pino({ level: 'silent' }),
    });
    await store.start();
    try {
      expect(
        store
          .list('User')
          .map((u) => u.metadata.name)
          .sort(),
      ).toEqual([`in-${teamA}`, `in-${teamB}`].sort());
      expect(store.list('User', teamB).map((u) => u.metadata.name)).toEqual([`in-${teamB}`]);
      expect(store.get('User', { namespace: other, name: `in-${other}` })).toBeUndefined();
      kubectlOk(['apply', '-n', teamB, '-f', '-'], `apiVersion: rollcall.dev/v1alpha1\nkind: User\nmetadata: {name: joiner}\nspec: {userName: joiner}\n`);
      await expect.poll(() => store.get('User', { namespace: teamB, name: 'joiner' })?.spec.userName, { timeout: 30_000 }).toBe('joiner');
    } finally {
      await store.stop();
    }
    // The same store over every namespace is refused: the ServiceAccount may not list cluster-wide.
    const everywhere = new KubeStore({ kubeconfig: loadKubeConfig(inject('kubeconfig'), { as: sa }), logger: pino({ level: 'silent' }) });
    await expect(everywhere.start()).rejects.toThrow(/403|forbidden/i);
  });

  it('renders no Role or ClusterRole with a wildcard, and each watched namespace its own Role', () => {
    const roles = objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
    for (const role of roles) {
      for (const rule of role.rules ?? []) {
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames'] as const) {
          expect(
            (rule[field] ?? []).filter((v) => v.includes('*')),
            `${role.kind} ${role.metadata.name}: ${field}`,
          ).toEqual([]);
        }
      }
    }
    expect(
      objects
        .filter((o) => o.kind === 'Role' && o.metadata.name === release)
        .map((o) => o.metadata.namespace)
        .sort(),
    ).toEqual([teamA, teamB].sort());
    const clusterRole = roles.find((o) => o.kind === 'ClusterRole' && o.metadata.name === release)!;
    expect(clusterRole.rules!.flatMap((r) => r.resources ?? [])).not.toContain('secrets');
  });

  it('refuses "*" among the bindable roles', () => {
    const rendered = helm(['template', 'rc', CHART, '--set', 'kubernetesConnector.enabled=true', '--set', 'kubernetesConnector.bindableClusterRoles={view,*}']);
    expect(rendered.code).not.toBe(0);
    expect(rendered.stderr).toMatch(/kubernetesConnector\.bindableClusterRoles: name each role/);
  });
});

describe('cluster mode (no watchNamespaces) stays possible, and is the broader choice', () => {
  it('reads Secrets in every namespace, writes no RoleBinding without the connector, impersonates nobody', () => {
    const home = createNamespace('rollcall-cluster');
    const release = `rc-${Math.random().toString(36).slice(2, 8)}`;
    const sa = `system:serviceaccount:${home}:${release}`;
    install(release, home, []);
    expect(canI(sa, 'get', 'secrets', '-n', 'kube-system')).toBe('yes');
    expect(canI(sa, 'get', 'secrets', '--all-namespaces')).toBe('yes');
    expect(canI(sa, 'create', 'rolebindings', '--all-namespaces')).toBe('no');
    expect(canI(sa, 'create', 'clusterrolebindings')).toBe('no');
    expect(canI(sa, 'bind', `clusterroles/${release}`)).toBe('no');
    expect(canI(sa, 'impersonate', 'serviceaccounts')).toBe('no');
  });

  it('with the connector: RoleBinding writes in kubernetesConnector.namespaces only, when they are listed', () => {
    const home = createNamespace('rollcall-cluster');
    const bound = createNamespace('team-k');
    const release = `rc-${Math.random().toString(36).slice(2, 8)}`;
    const sa = `system:serviceaccount:${home}:${release}`;
    install(release, home, ['--set', 'kubernetesConnector.enabled=true', '--set', `kubernetesConnector.namespaces={${bound}}`]);
    expect(canI(sa, 'create', 'rolebindings', '-n', bound)).toBe('yes');
    expect(canI(sa, 'create', 'rolebindings', '-n', 'kube-system')).toBe('no');
    expect(canI(sa, 'bind', 'clusterroles/edit', '-n', 'kube-system')).toBe('no');
  });
});
