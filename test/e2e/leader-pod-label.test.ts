// `rollcall run --leader-pod NAME` against the real API server: the leading replica's Pod carries
// rollcall.dev/leader: "true" (what the chart's SCIM Service selects), a standby's Pod never does,
// a stale label is removed at start, and the label moves with leadership.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../servers/test-server.ts';
import { createNamespace, kubectlOk } from './kube.ts';
import { until } from '../helpers/eventually.ts';
import { startRollcall, type RollcallRun } from './rollcall-run.ts';

describe('the leader labels its own pod', () => {
  let namespace: string;
  const replicas: RollcallRun[] = [];
  const ports: number[] = [];

  const leaderLabel = (pod: string) => kubectlOk(['get', 'pod', pod, '-n', namespace, '-o', 'jsonpath={.metadata.labels.rollcall\\.dev/leader}']);
  const serves = async (port: number) =>
    (await fetch(`http://127.0.0.1:${port}/scim/v2/ServiceProviderConfig`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined)) !== undefined;
  const replica = (pod: string, port: number) =>
    startRollcall(namespace, ['--lease-namespace', namespace, '--leader-pod', pod, '--scim-port', String(port)], { leaderElect: true });

  beforeAll(async () => {
    namespace = createNamespace('leader-pod');
    // No controller-manager in the test control plane: the default ServiceAccount must be made by hand.
    kubectlOk(['apply', '-f', '-'], `{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "${namespace}"}}`);
    for (const [pod, labels] of [
      ['replica-a', {}],
      ['replica-b', { 'rollcall.dev/leader': 'true', app: 'rollcall' }],
    ] as const) {
      kubectlOk(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: pod, namespace, labels },
          spec: { containers: [{ name: 'rollcall', image: 'rollcall/rollcall:test' }] },
        }),
      );
    }
    ports.push(await freePort(), await freePort());
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
  });

  it('the first replica leads: its pod is labelled once it serves SCIM', async () => {
    replicas.push(replica('replica-a', ports[0]!));
    await until('replica-a labelled', () => (leaderLabel('replica-a') === 'true' ? true : undefined), { logs: replicas[0]!.output });
    expect(await serves(ports[0]!)).toBe(true);
  });

  it('a standby removes the label its pod carried from before, and serves nothing', async () => {
    replicas.push(replica('replica-b', ports[1]!));
    await until('the stale label removed', () => (leaderLabel('replica-b') === '' ? true : undefined), { logs: replicas[1]!.output });
    // Other labels are left alone.
    expect(kubectlOk(['get', 'pod', 'replica-b', '-n', namespace, '-o', 'jsonpath={.metadata.labels.app}'])).toBe('rollcall');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(leaderLabel('replica-b')).toBe('');
    expect(leaderLabel('replica-a')).toBe('true');
    expect(await serves(ports[1]!)).toBe(false);
  });

  it('the label moves with leadership when the leader stops', async () => {
    await replicas[0]!.stop();
    expect(leaderLabel('replica-a')).toBe('');
    await until('replica-b labelled', () => (leaderLabel('replica-b') === 'true' ? true : undefined), { timeoutMs: 30_000, logs: replicas[1]!.output });
    expect(await serves(ports[1]!)).toBe(true);
  });
});
