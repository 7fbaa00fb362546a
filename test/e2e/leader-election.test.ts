// Two LeaderElectors against the real API server's Lease: only one leads, and release() hands
// leadership to the other within seconds instead of a full lease duration.
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LeaderElector } from '../../src/process/leader-election.ts';
import { createNamespace, kubectlOk } from './kube.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(50);
  }
  return Date.now() - started;
}

describe('leader election against the API server', () => {
  const namespace = createNamespace('leader');
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(inject('kubeconfig'));
  const api = kubeconfig.makeApiClient(CoordinationV1Api);
  // Short timings so the test is quick; the defaults are 15 s / 10 s / 2 s.
  const timing = { leaseDurationMs: 6_000, renewDeadlineMs: 4_000, retryPeriodMs: 500 };
  const electors = ['replica-a', 'replica-b'].map((identity) => new LeaderElector({ api, namespace, name: 'rollcall', identity, ...timing }));
  const started = electors.map(() => 0);
  const runs = electors.map((elector, i) =>
    elector.run({
      onStartedLeading: () => void started[i]!++,
      onStoppedLeading: () => undefined,
    }),
  );
  afterAll(async () => {
    await Promise.all(electors.map((e) => e.release()));
    await Promise.all(runs);
  });

  it('lets only one replica lead, and records it in the Lease', async () => {
    await until(() => electors.some((e) => e.isLeader), 10_000);
    // Watch for a while: never two leaders at once.
    for (let i = 0; i < 30; i++) {
      expect(electors.filter((e) => e.isLeader)).toHaveLength(1);
      await sleep(100);
    }
    const leader = electors.find((e) => e.isLeader)!;
    const holder = kubectlOk(['get', 'lease', 'rollcall', '-n', namespace, '-o', 'jsonpath={.spec.holderIdentity}']);
    expect(holder).toBe(leader.identity);
    expect(started.reduce((a, b) => a + b)).toBe(1);
  });

  it('hands over to the other replica within seconds after release()', async () => {
    const leader = electors.find((e) => e.isLeader)!;
    const other = electors.find((e) => e !== leader)!;
    await leader.release();
    expect(leader.isLeader).toBe(false);
    const tookMs = await until(() => other.isLeader, 10_000);
    // Well before the 6 s lease would have expired on its own.
    expect(tookMs).toBeLessThan(3_000);
    const holder = kubectlOk(['get', 'lease', 'rollcall', '-n', namespace, '-o', 'jsonpath={.spec.holderIdentity}']);
    expect(holder).toBe(other.identity);
    const transitions = kubectlOk(['get', 'lease', 'rollcall', '-n', namespace, '-o', 'jsonpath={.spec.leaseTransitions}']);
    expect(Number(transitions)).toBe(1);
  });
});
