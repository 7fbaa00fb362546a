import { ApiException, type V1Lease } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeaderElector, type LeaseApi } from '../../../src/process/leader-election.ts';
import { Metrics } from '../../../src/process/metrics.ts';

/**
 * An in-memory stand-in for the API server's Lease endpoint with its real rules: 404 when absent,
 * 409 on create when present and on replace with a stale resourceVersion, and times that come back
 * as strings because they went through JSON.
 */
class LeaseServer {
  stored: V1Lease | undefined;
  #version = 0;

  client(outage: { down: boolean } = { down: false }): LeaseApi {
    const check = (): void => {
      if (outage.down) throw new ApiException(503, 'unavailable', {}, {});
    };
    return {
      readNamespacedLease: async () => {
        check();
        if (!this.stored) throw new ApiException(404, 'not found', {}, {});
        return JSON.parse(JSON.stringify(this.stored)) as V1Lease;
      },
      createNamespacedLease: async ({ body }) => {
        check();
        if (this.stored) throw new ApiException(409, 'already exists', {}, {});
        return this.#store(body);
      },
      replaceNamespacedLease: async ({ body }) => {
        check();
        if (body.metadata?.resourceVersion !== this.stored?.metadata?.resourceVersion) throw new ApiException(409, 'conflict', {}, {});
        return this.#store(body);
      },
    };
  }

  #store(body: V1Lease): V1Lease {
    this.stored = JSON.parse(JSON.stringify({ ...body, metadata: { ...body.metadata, resourceVersion: String(++this.#version) } })) as V1Lease;
    return JSON.parse(JSON.stringify(this.stored)) as V1Lease;
  }
}

function candidate(server: LeaseServer, identity: string, outage?: { down: boolean }, metrics?: Metrics) {
  const elector = new LeaderElector({ api: server.client(outage), namespace: 'rollcall-system', name: 'rollcall', identity, ...(metrics ? { metrics } : {}) });
  const events: string[] = [];
  let signal: AbortSignal | undefined;
  const done = elector.run({
    onStartedLeading: (s) => {
      signal = s;
      events.push('started');
    },
    onStoppedLeading: () => {
      events.push('stopped');
    },
  });
  return { elector, events, done, signal: () => signal };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LeaderElector', () => {
  it('a leader whose controllers fail to start gives the lease up at once: stopped, released, run() ends', async () => {
    vi.useFakeTimers();
    const server = new LeaseServer();
    const events: string[] = [];
    const failing = new LeaderElector({ api: server.client(), namespace: 'rollcall-system', name: 'rollcall', identity: 'broken' });
    const done = failing.run({
      onStartedLeading: async () => {
        events.push('started');
        throw new Error('listen EADDRINUSE: address already in use 127.0.0.1:8443');
      },
      onStoppedLeading: () => void events.push('stopped'),
    });
    await vi.advanceTimersByTimeAsync(100);
    await done;
    expect(events).toEqual(['started', 'stopped']);
    expect(failing.isLeader).toBe(false);
    expect((failing.startFailure as Error).message).toMatch(/EADDRINUSE/);
    // Released, not left to expire: the standby acquires it on its first try.
    expect(server.stored?.spec?.holderIdentity).toBe('');
    const standby = candidate(server, 'standby');
    await vi.advanceTimersByTimeAsync(100);
    expect(standby.elector.isLeader).toBe(true);
    await standby.elector.release();
  });

  it('lets exactly one of two replicas lead, and renews its lease', async () => {
    vi.useFakeTimers();
    const server = new LeaseServer();
    const a = candidate(server, 'a');
    const b = candidate(server, 'b');
    await vi.advanceTimersByTimeAsync(30_000);
    expect([a.elector.isLeader, b.elector.isLeader].filter(Boolean)).toHaveLength(1);
    const leader = a.elector.isLeader ? a : b;
    expect(server.stored?.spec?.holderIdentity).toBe(leader.elector.identity);
    // Renewed every retry period: the renewTime is at most 2 s old.
    expect(Date.now() - new Date(server.stored!.spec!.renewTime!).getTime()).toBeLessThanOrEqual(2_000);
    expect(leader.events).toEqual(['started']);
    await a.elector.release();
    await b.elector.release();
  });

  it('hands over at once on release(), stopping the work before the lease is freed', async () => {
    vi.useFakeTimers();
    const server = new LeaseServer();
    const metrics = new Metrics({ defaultMetrics: false });
    const a = candidate(server, 'a', undefined, metrics);
    await vi.advanceTimersByTimeAsync(100);
    expect(a.elector.isLeader).toBe(true);
    expect(await metrics.text()).toContain('rollcall_leader 1');
    const b = candidate(server, 'b');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(b.elector.isLeader).toBe(false);

    const releasedAt = Date.now();
    await a.elector.release();
    await a.done;
    expect(a.events).toEqual(['started', 'stopped']);
    expect(a.signal()?.aborted).toBe(true);
    expect(server.stored?.spec?.holderIdentity).toBe('');
    expect(await metrics.text()).toContain('rollcall_leader 0');

    // b takes over on its next retry, far sooner than the 15 s lease would expire.
    await vi.advanceTimersByTimeAsync(2_100);
    expect(b.elector.isLeader).toBe(true);
    expect(Date.now() - releasedAt).toBeLessThan(3_000);
    expect(server.stored?.spec?.holderIdentity).toBe('b');
    expect(server.stored?.spec?.leaseTransitions).toBe(1);
    await b.elector.release();
  });

  it('gives up leadership when renewals fail past the renew deadline, and the other takes over after expiry', async () => {
    vi.useFakeTimers();
    const server = new LeaseServer();
    const outage = { down: false };
    const a = candidate(server, 'a', outage);
    await vi.advanceTimersByTimeAsync(100);
    expect(a.elector.isLeader).toBe(true);
    const b = candidate(server, 'b');

    outage.down = true;
    const lastRenewal = new Date(server.stored!.spec!.renewTime!).getTime();
    await vi.advanceTimersByTimeAsync(9_000);
    expect(a.elector.isLeader).toBe(true); // within the renew deadline
    await vi.advanceTimersByTimeAsync(3_000);
    expect(a.elector.isLeader).toBe(false);
    expect(a.events).toEqual(['started', 'stopped']);
    expect(a.signal()?.aborted).toBe(true);
    await a.done; // run() ends once leadership is lost

    // b must not lead before a's lease ran out, and does soon after.
    expect(b.elector.isLeader).toBe(false);
    await vi.advanceTimersByTimeAsync(lastRenewal + 15_000 - Date.now());
    expect(b.elector.isLeader).toBe(false);
    await vi.advanceTimersByTimeAsync(2_100);
    expect(b.elector.isLeader).toBe(true);
    await b.elector.release();
  });

  it('rejects timings that cannot work', () => {
    const api = new LeaseServer().client();
    expect(() => new LeaderElector({ api, namespace: 'n', name: 'l', leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(/renewDeadlineMs/);
    expect(() => new LeaderElector({ api, namespace: 'n', name: 'l', renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(/retryPeriodMs/);
  });

  it('picks a distinct identity per process by default', () => {
    const api = new LeaseServer().client();
    const one = new LeaderElector({ api, namespace: 'n', name: 'l' });
    const two = new LeaderElector({ api, namespace: 'n', name: 'l' });
    expect(one.identity).not.toBe(two.identity);
  });
});
