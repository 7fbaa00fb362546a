// Installed as a platform team installs it: the image built by scripts/image/build.sh, imported into
// a real node (containerd + runc + kubelet, test/node), and `helm install --wait` of the chart. Both
// replicas run and one leads; an example converges from inside the pods; deleting the leader's pod
// hands the Lease over; `helm upgrade` with a changed value rolls the pods; `helm uninstall` removes
// the workload and keeps the CRDs and the objects users made.
//
// Its own control plane, started with --workloads (scheduler, deployment and replicaset controllers,
// ServiceAccount token volumes): the shared one of the e2e run has no node and pre-applies crds/.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { buildNode, startNode, type TestNode } from '../node/node.ts';
import { buildControlPlane, startControlPlane, type ControlPlane } from '../servers/controlplane.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CHART = join(ROOT, 'charts', 'rollcall');
const RELEASE = 'rollcall';
const NAMESPACE = 'rollcall-system';
const TENANT = 'team-a';
// The Lease the replicas compete for (src/cli/run.ts) and how long a holder keeps it without renewing.
const LEASE = 'rollcall-leader';
const LEASE_SECONDS = 15;

interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string; containers: Array<{ args: string[] }> };
  status: { phase: string; containerStatuses?: Array<{ ready: boolean; restartCount: number }> };
}

describe('helm install on a real node', () => {
  let controlPlane: ControlPlane;
  let node: TestNode | undefined;

  const run = (binary: string, args: string[], input?: string) => {
    const result = spawnSync(binary, args, { input, encoding: 'utf8', env: { ...process.env, KUBECONFIG: controlPlane.kubeconfig }, timeout: 400_000 });
    return { code: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
  };
  const kubectl = (args: string[], input?: string) => {
    const result = run('kubectl', args, input);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  };
  const helm = (args: string[]) => run(inject('helm'), ['--kubeconfig', controlPlane.kubeconfig, ...args]);
  const pods = (): Pod[] =>
    JSON.parse(kubectl(['get', 'pods', '-n', NAMESPACE, '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'json'])).items.filter(
      (p: Pod) => !p.metadata.deletionTimestamp,
    );
  const runningPods = () => pods().filter((p) => p.status.phase === 'Running' && p.status.containerStatuses?.every((c) => c.ready));
  const leaseHolder = () => kubectl(['get', 'lease', LEASE, '-n', NAMESPACE, '-o', 'jsonpath={.spec.holderIdentity}']);
  /** The pod whose rollcall holds the Lease (its identity is the pod's hostname, then a suffix). */
  const leader = () => {
    const holder = leaseHolder();
    const pod = runningPods().find((p) => holder.startsWith(`${p.metadata.name}_`));
    if (!pod)
      throw new Error(
        `the Lease is held by "${holder}", not by a running pod (${runningPods()
          .map((p) => p.metadata.name)
          .join(', ')})`,
      );
    return pod;
  };
  const diagnostics = () => `${run('kubectl', ['get', 'pods,events', '-n', NAMESPACE, '-o', 'wide']).stdout}\n${node?.logs() ?? ''}`;

  beforeAll(async () => {
    const image = execFileSync('bash', [join(ROOT, 'scripts', 'image', 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    const binaries = buildNode();
    controlPlane = await startControlPlane(buildControlPlane().controlPlane, { args: ['--workloads'] });
    node = await startNode({ kubeconfig: controlPlane.kubeconfig, binaries });
    node.importImage(join(image, 'rollcall-image.oci.tar'));
    kubectl(['create', 'namespace', TENANT]);
    kubectl(['create', 'clusterrole', 'pod-reader', '--verb=get,list', '--resource=pods']);
  });

  afterAll(async () => {
    await node?.stop();
    await controlPlane?.stop();
  });

  it('helm install --wait: both replicas run on the node and one holds the Lease', async () => {
    const installed = helm([
      'install',
      RELEASE,
      CHART,
      '--namespace',
      NAMESPACE,
      '--create-namespace',
      '--wait',
      '--timeout',
      '5m',
      // The image is imported, never pulled (no registry is reachable).
      '--set',
      'image.pullPolicy=Never',
      '--set',
      'kubernetesConnector.enabled=true',
      '--set',
      'kubernetesConnector.bindableClusterRoles={pod-reader}',
    ]);
    expect(installed.code, `${installed.stderr}\n${diagnostics()}`).toBe(0);
    const running = runningPods();
    expect(running, diagnostics()).toHaveLength(2);
    for (const pod of running) expect(pod.spec.nodeName).toBe(node!.name);
    await eventually(leader, { timeoutMs: 60_000, logs: diagnostics });
  }, 420_000);

  it('an example converges from inside the pods: a User bound to a role gets its RoleBinding', async () => {
    kubectl(
      ['apply', '-f', '-'],
      `apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: rbac, namespace: ${TENANT}}
spec: {type: kubernetes, deprovision: {policy: delete}, resyncInterval: 10m}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: reader, namespace: ${TENANT}}
spec:
  grants:
    - system: rbac
      entitlements: [ClusterRole/pod-reader@${TENANT}]
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: ada-reads, namespace: ${TENANT}}
spec: {role: reader, users: [ada]}
---
apiVersion: rollcall.dev/v1alpha1
kind: User
metadata: {name: ada, namespace: ${TENANT}}
spec: {userName: ada}
`,
    );
    await eventually(
      () => {
        expect(run('kubectl', ['auth', 'can-i', 'get', 'pods', '-n', TENANT, '--as', 'ada']).stdout.trim()).toBe('yes');
        const ready = kubectl(['get', 'user', 'ada', '-n', TENANT, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
        expect(ready).toBe('True');
      },
      { timeoutMs: 120_000, intervalMs: 1000, logs: diagnostics },
    );
    // Not anywhere else: the grant is confined to the tenant's namespace.
    expect(run('kubectl', ['auth', 'can-i', 'get', 'pods', '-n', 'default', '--as', 'ada']).stdout.trim()).toBe('no');
  }, 200_000);

  it('kubectl delete pod of the leader: the other replica takes the Lease over within its duration', async () => {
    const before = leader();
    const standby = runningPods().find((p) => p.metadata.name !== before.metadata.name)!;
    expect(standby).toBeDefined();
    const start = performance.now();
    kubectl(['delete', 'pod', before.metadata.name, '-n', NAMESPACE, '--wait=false']);
    const after = await eventually(
      () => {
        const now = leader();
        if (now.metadata.name === before.metadata.name) throw new Error(`${before.metadata.name} still leads`);
        return now;
      },
      { timeoutMs: 120_000, intervalMs: 500, logs: diagnostics },
    );
    const seconds = (performance.now() - start) / 1000;
    // A clean shutdown releases the Lease and every candidate asks every 2 s: usually the standby
    // wins, but the Deployment's replacement pod asks at once on start and may come first.
    expect(after.metadata.name).not.toBe(before.metadata.name);
    expect(runningPods().map((p) => p.metadata.name)).toContain(after.metadata.name);
    if (after.metadata.name !== standby.metadata.name)
      console.log(`the replacement pod ${after.metadata.name} took the Lease before the standby ${standby.metadata.name}`);
    // A clean shutdown releases the Lease; a crash leaves it to expire. Either way, within the
    // lease duration plus the standby's retry period and the test's polling.
    expect(seconds).toBeLessThan(LEASE_SECONDS + 10);
    // And the Deployment brings the count back to two.
    await eventually(() => expect(runningPods()).toHaveLength(2), { timeoutMs: 180_000, intervalMs: 1000, logs: diagnostics });
  }, 330_000);

  it('helm upgrade with a changed value rolls the pods', async () => {
    const old = new Set(pods().map((p) => p.metadata.uid));
    const upgraded = helm(['upgrade', RELEASE, CHART, '--namespace', NAMESPACE, '--reuse-values', '--set', 'logLevel=debug', '--wait', '--timeout', '5m']);
    expect(upgraded.code, `${upgraded.stderr}\n${diagnostics()}`).toBe(0);
    await eventually(
      () => {
        const now = runningPods();
        expect(now).toHaveLength(2);
        expect(pods()).toHaveLength(2);
        for (const pod of now) {
          expect(old.has(pod.metadata.uid)).toBe(false);
          expect(pod.spec.containers[0]!.args).toContain('--log-level=debug');
        }
      },
      { timeoutMs: 180_000, intervalMs: 1000, logs: diagnostics },
    );
    await eventually(leader, { timeoutMs: 60_000, logs: diagnostics });
  }, 480_000);

  it('helm uninstall removes the workload and its permissions; the CRDs and what users made stay', async () => {
    const uninstalled = helm(['uninstall', RELEASE, '--namespace', NAMESPACE, '--wait', '--timeout', '3m']);
    expect(uninstalled.code, uninstalled.stderr).toBe(0);
    expect(run('kubectl', ['get', 'deployment', RELEASE, '-n', NAMESPACE]).code).not.toBe(0);
    expect(run('kubectl', ['get', 'serviceaccount', RELEASE, '-n', NAMESPACE]).code).not.toBe(0);
    await eventually(() => expect(pods()).toHaveLength(0), { timeoutMs: 120_000, intervalMs: 1000, logs: diagnostics });
    kubectl(['get', 'crd', 'users.rollcall.dev']);
    expect(kubectl(['get', 'user', 'ada', '-n', TENANT, '-o', 'name']).trim()).toBe('user.rollcall.dev/ada');
  }, 300_000);
});
