// The shared conformance suite against the real test control plane (etcd + kube-apiserver with RBAC).
// Probes ask the API server as the admin, never through the connector: the bindings themselves, and
// a SubjectAccessReview for what the user may do.
import {
  ApiextensionsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1CustomResourceDefinition,
  type V1RoleBinding,
} from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { connectedSystemSpec, PermanentError } from '../../src/api/index.ts';
import type { Connector, KubernetesReach } from '../../src/connectors/types.ts';
import { MANAGED_BY_LABEL, SYSTEM_LABEL, USER_ANNOTATION } from '../../src/connectors/kubernetes/names.ts';
import { connectorFactory } from '../../src/connectors/registry.ts';
import { startKubeApiServer, type KubeApiServer } from '../servers/kube-apiserver.ts';
import type { ConformanceTarget } from './harness.ts';
import { describeConformance } from './suite.ts';

const BAD_TOKEN = `wrong-${crypto.randomUUID()}`;

/**
 * What a credentials Secret would hold for this type, as a KubeConfig: `token` is a bearer token
 * for the control plane's address, trusting its CA. (The connector itself only takes a KubeConfig.)
 */
function kubeconfigFrom(admin: KubeConfig, credentials: Record<string, string>): KubeConfig {
  const cluster = admin.getCurrentCluster()!;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'conformance', server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: 'from-credentials', token: credentials.token }],
    contexts: [{ name: 'conformance', cluster: 'conformance', user: 'from-credentials' }],
    currentContext: 'conformance',
  });
  return config;
}

async function managedBindingsOf(server: KubeApiServer, userName: string, systemLabel: string): Promise<V1RoleBinding[]> {
  const rbac = server.admin().makeApiClient(RbacAuthorizationV1Api);
  const labelSelector = `${MANAGED_BY_LABEL}=rollcall,${SYSTEM_LABEL}=${systemLabel}`;
  const all = [...(await rbac.listClusterRoleBinding({ labelSelector })).items, ...(await rbac.listRoleBindingForAllNamespaces({ labelSelector })).items];
  return all.filter((binding) => binding.metadata?.annotations?.[USER_ANNOTATION] === userName);
}

// One control plane for the whole file (2 cores are shared): the scope tests below use it first,
// then the shared suite, whose close() stops it.
let server: Promise<KubeApiServer> | undefined;
// The control plane is READY only once its clusterrole-aggregation controller has filled view and edit.
const sharedServer = () => (server ??= startKubeApiServer());

async function start(): Promise<ConformanceTarget> {
  const server = await sharedServer();
  const namespace = `conformance-${crypto.randomUUID().slice(0, 8)}`;
  await server
    .admin()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name: namespace } } });
  const factory = await connectorFactory('kubernetes');
  const spec = connectedSystemSpec.parse({ type: 'kubernetes' });
  // The system lives in the namespace it binds in: without an allowance that is all it may do.
  const system = `${namespace}/kubernetes`;
  const systemLabel = `${namespace}.kubernetes`;
  const foreign = new Map<string, string>(); // userName -> resourceVersion of the foreign binding

  return {
    connect: async ({ logger, credentials, timeoutMs }) => {
      const admin = server.admin(); // read again: the control plane issues new certificates at every start
      return factory({
        system,
        namespace,
        spec,
        credentials: credentials ?? {},
        kubeconfig: credentials ? kubeconfigFrom(admin, credentials) : admin,
        // edit is bound too, as a cluster admin's --kubernetes-bindable-cluster-roles view,edit allows.
        kubernetesReach: { cluster: false, namespaces: [], bindableClusterRoles: ['view', 'edit'] },
        logger,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
    },
    entitlements: [`ClusterRole/view@${namespace}`, `ClusterRole/edit@${namespace}`],
    attribute: undefined,
    async canLogin(userName) {
      return mayGetPods(server, userName, namespace);
    },
    async fingerprint(userName) {
      const versions = (await managedBindingsOf(server, userName, systemLabel)).map((binding) => binding.metadata!.resourceVersion!).sort();
      return versions.length === 0 ? undefined : versions.join(',');
    },
    async createForeignAccount(userName) {
      const created = await server
        .admin()
        .makeApiClient(RbacAuthorizationV1Api)
        .createNamespacedRoleBinding({
          namespace,
          body: {
            metadata: { name: `foreign-${userName}` },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
            subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: userName }],
          },
        });
      foreign.set(userName, created.metadata!.resourceVersion!);
    },
    async foreignAccountIntact(userName) {
      const binding = await server
        .admin()
        .makeApiClient(RbacAuthorizationV1Api)
        .readNamespacedRoleBinding({ namespace, name: `foreign-${userName}` })
        .catch(() => undefined);
      return binding !== undefined && binding.metadata?.resourceVersion === foreign.get(userName) && binding.metadata?.labels === undefined;
    },
    badCredentials: { token: BAD_TOKEN },
    secrets: [BAD_TOKEN],
    stopServer: () => server.stop(),
    startServer: () => server.start(),
    async freezeServer() {
      server.freeze();
    },
    async thawServer() {
      server.thaw();
    },
    close: () => server.close(),
  };
}

/** A SubjectAccessReview as the admin: may `user` get pods in `namespace` right now? */
async function mayGetPods(server: KubeApiServer, user: string, namespace: string): Promise<boolean> {
  // The RBAC authorizer reads bindings through an informer: let it see the latest change first.
  await sleep(1000);
  const review = await server
    .admin()
    .makeApiClient(AuthorizationV1Api)
    .createSubjectAccessReview({ body: { spec: { user, resourceAttributes: { namespace, verb: 'get', resource: 'pods' } } } });
  return review.status?.allowed === true;
}

/** Installs the User CRD (for subjectName: email, which looks addresses up there) and waits until it is served. */
async function installUserCrd(server: KubeApiServer): Promise<void> {
  const api = server.admin().makeApiClient(ApiextensionsV1Api);
  const crd = parse(readFileSync(join(import.meta.dirname, '../../crds/users.rollcall.dev.yaml'), 'utf8')) as V1CustomResourceDefinition;
  await api.createCustomResourceDefinition({ body: crd });
  for (let i = 0; i < 100; i++) {
    const read = await api.readCustomResourceDefinition({ name: crd.metadata!.name! });
    if (read.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await sleep(100);
  }
  throw new Error('the User CRD was not established');
}

// What the suite cannot say about every connector: the RBAC-specific edges of the managed scope.
describe('kubernetes connector scope', () => {
  const signal = () => AbortSignal.timeout(30_000);
  const logger = pino({ level: 'silent' });
  let cluster: KubeApiServer;
  let namespace: string;
  const opened: Connector[] = [];
  // These systems bind in a namespace not their own, and cluster-wide: as a cluster admin allowed
  // (--kubernetes-allow NS=cluster, NS=namespaces:*) unless a test says otherwise.
  // edit is listed bindable too (--kubernetes-bindable-cluster-roles view,edit).
  const ANYWHERE: KubernetesReach = { cluster: true, namespaces: ['*'], bindableClusterRoles: ['view', 'edit'] };
  const connect = async (system: string, settings: Record<string, unknown> = {}, kubeconfig?: KubeConfig, reach: KubernetesReach | null = ANYWHERE) => {
    const factory = await connectorFactory('kubernetes');
    const ns = system.slice(0, system.indexOf('/'));
    const spec = connectedSystemSpec.parse({ type: 'kubernetes', kubernetes: settings });
    const connector = await factory({
      system,
      namespace: ns,
      spec,
      credentials: {},
      kubeconfig: kubeconfig ?? cluster.admin(),
      logger,
      timeoutMs: 10_000,
      ...(reach === null ? {} : { kubernetesReach: reach }), // null: no allowance given
    });
    opened.push(connector);
    return connector;
  };
  const rbac = () => cluster.admin().makeApiClient(RbacAuthorizationV1Api);

  beforeAll(async () => {
    cluster = await sharedServer();
    namespace = `scope-${crypto.randomUUID().slice(0, 8)}`;
    await cluster
      .admin()
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: namespace } } });
  }, 300_000);

  afterAll(async () => {
    for (const connector of opened) await connector.close();
  });

  it('never lists or removes a binding someone else made for the same user', async () => {
    await rbac().createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'hand-made-dave' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'dave' }],
      },
    });
    const connector = await connect('team-a/cluster');
    expect(await connector.getAccount('dave', signal())).toBeUndefined();
    await connector.apply({ op: 'grant', userName: 'dave', entitlement: `ClusterRole/edit@${namespace}` }, signal());
    expect((await connector.getAccount('dave', signal()))?.entitlements).toEqual([`ClusterRole/edit@${namespace}`]);
    await connector.apply({ op: 'delete', userName: 'dave' }, signal());
    expect(await connector.getAccount('dave', signal())).toBeUndefined();
    const kept = await rbac().readNamespacedRoleBinding({ namespace, name: 'hand-made-dave' });
    expect(kept.subjects?.map((s) => s.name)).toEqual(['dave']);
    expect(await mayGetPods(cluster, 'dave', namespace)).toBe(true); // through the hand-made binding only
  });

  it('keeps two ConnectedSystems apart, even for the same user and ClusterRole', async () => {
    const a = await connect('team-a/cluster');
    const b = await connect('team-b/cluster');
    await a.apply({ op: 'grant', userName: 'erin', entitlement: 'ClusterRole/view' }, signal());
    await b.apply({ op: 'grant', userName: 'erin', entitlement: 'ClusterRole/view' }, signal());
    expect(await managedBindingsOf(cluster, 'erin', 'team-a.cluster')).toHaveLength(1);
    expect(await managedBindingsOf(cluster, 'erin', 'team-b.cluster')).toHaveLength(1);
    await a.apply({ op: 'delete', userName: 'erin' }, signal());
    expect(await a.getAccount('erin', signal())).toBeUndefined();
    expect((await b.getAccount('erin', signal()))?.entitlements).toEqual(['ClusterRole/view']);
    await b.apply({ op: 'revoke', userName: 'erin', entitlement: 'ClusterRole/view' }, signal());
    expect(await managedBindingsOf(cluster, 'erin', 'team-b.cluster')).toEqual([]);
  });

  it('shows an edited binding as not holding its entitlement, and a grant restores it', async () => {
    const connector = await connect('team-a/cluster');
    const entitlement = `ClusterRole/edit@${namespace}`;
    await connector.apply({ op: 'grant', userName: 'frank', entitlement }, signal());
    const [binding] = await managedBindingsOf(cluster, 'frank', 'team-a.cluster');
    const widened = [...binding!.subjects!, { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'mallory' }];
    await rbac().replaceNamespacedRoleBinding({ namespace, name: binding!.metadata!.name!, body: { ...binding!, subjects: widened } });
    expect((await connector.getAccount('frank', signal()))?.entitlements).toEqual([]);
    await connector.apply({ op: 'grant', userName: 'frank', entitlement }, signal());
    const [restored] = await managedBindingsOf(cluster, 'frank', 'team-a.cluster');
    expect(restored!.subjects?.map((s) => s.name)).toEqual(['frank']);
    expect((await connector.getAccount('frank', signal()))?.entitlements).toEqual([entitlement]);
    await connector.apply({ op: 'delete', userName: 'frank' }, signal());
  });

  it('binds the e-mail address when subjectName is email, and maps it back to the userName', async () => {
    await installUserCrd(cluster);
    await cluster
      .admin()
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: 'team-c' } } });
    await cluster
      .admin()
      .makeApiClient(CustomObjectsApi)
      .createNamespacedCustomObject({
        group: 'rollcall.dev',
        version: 'v1alpha1',
        namespace: 'team-c',
        plural: 'users',
        body: { apiVersion: 'rollcall.dev/v1alpha1', kind: 'User', metadata: { name: 'grace' }, spec: { userName: 'grace', email: 'grace@example.org' } },
      });
    const connector = await connect('team-c/cluster', { subjectName: 'email' });
    await connector.apply({ op: 'grant', userName: 'grace', entitlement: `ClusterRole/view@${namespace}` }, signal());
    const accounts = [];
    for await (const account of connector.listAccounts(signal())) accounts.push(account);
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ userName: 'grace', id: 'grace@example.org', entitlements: [`ClusterRole/view@${namespace}`] });
    expect(await mayGetPods(cluster, 'grace@example.org', namespace)).toBe(true);
    expect(await mayGetPods(cluster, 'grace', namespace)).toBe(false);
    await expect(connector.apply({ op: 'grant', userName: 'nobody', entitlement: 'ClusterRole/view' }, signal())).rejects.toThrow(/no spec\.email/);
    await connector.apply({ op: 'delete', userName: 'grace' }, signal());
  });

  it('without an allowance, binds only inside its own namespace: cluster-wide and cross-namespace grants are refused and create nothing', async () => {
    const home = `home-${crypto.randomUUID().slice(0, 8)}`;
    await cluster
      .admin()
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: home } } });
    const connector = await connect(`${home}/cluster`, {}, undefined, null);
    const label = `${home}.cluster`;
    expect(connector.refusal?.(`ClusterRole/view@${home}`)).toBeUndefined();
    expect(connector.refusal?.('ClusterRole/view')).toMatch(/ClusterRole\/view would bind cluster-wide/);

    const clusterWide = await connector.apply({ op: 'grant', userName: 'ivan', entitlement: 'ClusterRole/view' }, signal()).catch((e: unknown) => e);
    expect(clusterWide).toBeInstanceOf(PermanentError);
    expect((clusterWide as Error).message).toContain(
      `ClusterRole/view would bind cluster-wide (a ClusterRoleBinding), and ConnectedSystem ${home}/cluster may bind only inside namespace ${home}`,
    );
    const elsewhere = await connector.apply({ op: 'grant', userName: 'ivan', entitlement: `ClusterRole/view@${namespace}` }, signal()).catch((e: unknown) => e);
    expect(elsewhere).toBeInstanceOf(PermanentError);
    expect((elsewhere as Error).message).toContain(`would bind in namespace ${namespace}`);
    expect(await managedBindingsOf(cluster, 'ivan', label)).toEqual([]);
    expect(await mayGetPods(cluster, 'ivan', namespace)).toBe(false);

    // Inside its own namespace, a ClusterRole bound by a RoleBinding is namespaced access: allowed.
    await connector.apply({ op: 'grant', userName: 'ivan', entitlement: `ClusterRole/view@${home}` }, signal());
    const [binding] = await managedBindingsOf(cluster, 'ivan', label);
    expect(binding).toMatchObject({ metadata: { namespace: home }, roleRef: { kind: 'ClusterRole', name: 'view' } }); // a RoleBinding: it has a namespace
    expect(await mayGetPods(cluster, 'ivan', home)).toBe(true);
    expect(await mayGetPods(cluster, 'ivan', namespace)).toBe(false);
    await connector.apply({ op: 'delete', userName: 'ivan' }, signal());
  });

  it('an allowance for one other namespace permits exactly that namespace', async () => {
    const connector = await connect('team-e/cluster', {}, undefined, { cluster: false, namespaces: [namespace] });
    await connector.apply({ op: 'grant', userName: 'judy', entitlement: `ClusterRole/view@${namespace}` }, signal());
    expect(await mayGetPods(cluster, 'judy', namespace)).toBe(true);
    await expect(connector.apply({ op: 'grant', userName: 'judy', entitlement: 'ClusterRole/view@kube-system' }, signal())).rejects.toThrow(/kube-system/);
    await expect(connector.apply({ op: 'grant', userName: 'judy', entitlement: 'ClusterRole/view' }, signal())).rejects.toThrow(/cluster-wide/);
    expect((await connector.getAccount('judy', signal()))?.entitlements).toEqual([`ClusterRole/view@${namespace}`]);
    await connector.apply({ op: 'delete', userName: 'judy' }, signal());
  });

  it('names the missing permission when its identity may not list bindings', async () => {
    const core = cluster.admin().makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'powerless' } } });
    const token = await core.createNamespacedServiceAccountToken({ namespace, name: 'powerless', body: { spec: { audiences: [] } } });
    const connector = await connect('team-d/cluster', {}, kubeconfigFrom(cluster.admin(), { token: token.status!.token! }));
    const error = await connector.check(signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/forbidden.*list clusterrolebindings/);
  });
});

describeConformance('kubernetes', start);
