import { afterEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, RetryableError } from '../../../src/api/errors.ts';
import { Metrics } from '../../../src/process/metrics.ts';
import { WorkQueue, type ReconcileFn } from '../../../src/queue/workqueue.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A queue whose reconcile records when each key ran (Date.now(), fake under vi.useFakeTimers). */
function recordingQueue(reconcile: ReconcileFn, extra: Partial<ConstructorParameters<typeof WorkQueue>[0]> = {}) {
  const runs: Array<{ key: string; at: number }> = [];
  const retries: Array<number | undefined> = [];
  const queue = new WorkQueue({
    name: 'test',
    concurrency: 4,
    reconcile: async (key) => {
      runs.push({ key, at: Date.now() });
      return reconcile(key);
    },
    onError: (_key, _error, retryInMs) => retries.push(retryInMs),
    ...extra,
  });
  return { queue, runs, retries };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('WorkQueue', () => {
  it('processes a key added several times while waiting only once', async () => {
    const { queue, runs } = recordingQueue(async () => undefined);
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.len()).toBe(2);
    queue.start();
    await queue.idle();
    expect(runs.map((r) => r.key).sort()).toEqual(['ns/a', 'ns/b']);
    expect(queue.len()).toBe(0);
    await queue.shutdown();
  });

  it('never runs one key twice at once, and re-runs it once when added during processing', async () => {
    const firstRunMayEnd = deferred();
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const queue = new WorkQueue({
      name: 'test',
      concurrency: 4,
      reconcile: async () => {
        calls++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        if (calls === 1) await firstRunMayEnd.promise;
        running--;
      },
    });
    queue.start();
    queue.add('ns/a');
    await vi.waitFor(() => expect(calls).toBe(1));
    // Three adds while it runs: with 4 workers free, none may start a second run of the key.
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(1);
    firstRunMayEnd.resolve();
    await queue.idle();
    expect(calls).toBe(2);
    expect(maxRunning).toBe(1);
    await queue.shutdown();
  });

  it('runs different keys in parallel up to the concurrency', async () => {
    const release = deferred();
    let running = 0;
    let maxRunning = 0;
    const queue = new WorkQueue({
      name: 'test',
      concurrency: 2,
      reconcile: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await release.promise;
        running--;
      },
    });
    queue.start();
    for (const key of ['a', 'b', 'c', 'd']) queue.add(key);
    await vi.waitFor(() => expect(running).toBe(2));
    expect(queue.len()).toBe(2);
    release.resolve();
    await queue.idle();
    expect(maxRunning).toBe(2);
    await queue.shutdown();
  });

  it('retries failures with exponential backoff up to the cap, and resets it after a success', async () => {
    vi.useFakeTimers();
    let call = 0;
    // Fails 6 times, succeeds once, then fails once more and succeeds.
    const { queue, runs, retries } = recordingQueue(
      async () => {
        call++;
        if (call === 7 || call > 8) return;
        throw new Error('connection refused');
      },
      { backoff: { baseMs: 10, maxMs: 80 }, random: () => 0 },
    );
    queue.start();
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(1_000);
    // After run 7 (a success) nothing is scheduled, so add the key again for the 8th run.
    expect(runs).toHaveLength(7);
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(retries).toEqual([10, 20, 40, 80, 80, 80, 10]);
    expect(runs).toHaveLength(9);
    const gaps = runs.slice(1, 7).map((run, i) => run.at - runs[i]!.at);
    expect(gaps).toEqual([10, 20, 40, 80, 80, 80]);
    await queue.shutdown();
  });

  it('applies jitter that shortens the delay by at most its fraction', async () => {
    vi.useFakeTimers();
    const { queue, runs, retries } = recordingQueue(
      async () => {
        throw new Error('busy');
      },
      { backoff: { baseMs: 100, maxMs: 10_000, jitter: 0.2 }, random: () => 1 },
    );
    queue.start();
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(500);
    expect(retries.slice(0, 3)).toEqual([80, 160, 320]);
    expect(runs[1]!.at - runs[0]!.at).toBe(80);
    await queue.shutdown();
  });

  it('does not retry a PermanentError, and reports it without a retry delay', async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    const { queue, runs, retries } = recordingQueue(
      async () => {
        throw new PermanentError('bind rejected: invalid credentials');
      },
      { onError: (_key, error, retryInMs) => (errors.push(error), retries.push(retryInMs)) },
    );
    queue.start();
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(runs).toHaveLength(1);
    expect(retries).toEqual([undefined]);
    expect(errors[0]).toBeInstanceOf(PermanentError);
    await queue.shutdown();
  });

  it('waits at least retryAfterMs of a RetryableError', async () => {
    vi.useFakeTimers();
    let call = 0;
    const { queue, runs, retries } = recordingQueue(async () => {
      if (++call === 1) throw new RetryableError('429 Too Many Requests', { retryAfterMs: 5_000 });
    });
    queue.start();
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toHaveLength(2);
    expect(retries).toEqual([5_000]);
    await queue.shutdown();
  });

  it('wakes a key up at the time its reconcile asked for, once', async () => {
    vi.useFakeTimers();
    let call = 0;
    const { queue, runs } = recordingQueue(async () => {
      if (++call === 1) return { requeueAt: new Date(Date.now() + 60_000) };
    });
    const startedAt = Date.now();
    queue.start();
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(runs.map((r) => r.at - startedAt)).toEqual([0, 60_000]);
    await queue.shutdown();
  });

  it('keeps the earliest of several pending wake-ups for a key', async () => {
    vi.useFakeTimers();
    const { queue, runs } = recordingQueue(async () => undefined);
    const startedAt = Date.now();
    queue.start();
    queue.addAt('ns/a', new Date(startedAt + 5_000));
    queue.addAt('ns/a', new Date(startedAt + 2_000));
    queue.addAfter('ns/a', 8_000);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(runs.map((r) => r.at - startedAt)).toEqual([2_000]);
    await queue.shutdown();
  });

  it('retries on the backoff after an error, never on a wake-up left from an earlier run', async () => {
    vi.useFakeTimers();
    let call = 0;
    const { queue, runs } = recordingQueue(async () => {
      call++;
      if (call === 1) return { requeueAt: new Date(Date.now() + 1_000) };
      if (call === 2) throw new RetryableError('rate limited', { retryAfterMs: 30_000 });
    });
    const startedAt = Date.now();
    queue.start();
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(0);
    // A watch event re-runs the key before its wake-up; that run fails and asks for 30 s.
    queue.add('ns/a');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs.map((r) => r.at - startedAt)).toEqual([0, 0, 30_000]);
    await queue.shutdown();
  });

  it('handles delays beyond the 24.8-day limit of setTimeout', async () => {
    vi.useFakeTimers();
    const { queue, runs } = recordingQueue(async () => undefined);
    queue.start();
    queue.addAfter('ns/a', 60 * DAY_MS);
    await vi.advanceTimersByTimeAsync(59 * DAY_MS);
    expect(runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(DAY_MS);
    expect(runs).toHaveLength(1);
    await queue.shutdown();
  });

  it('starts no more reconciles than the rate limit allows in a window', async () => {
    vi.useFakeTimers();
    const { queue, runs } = recordingQueue(async () => undefined, { rateLimit: { intervalMs: 1_000, perInterval: 2 } });
    const startedAt = Date.now();
    queue.start();
    for (let i = 0; i < 6; i++) queue.add(`ns/u${i}`);
    await vi.advanceTimersByTimeAsync(999);
    expect(runs).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs).toHaveLength(6);
    // No 1-second window holds more than 2 starts.
    for (const run of runs) {
      expect(runs.filter((other) => other.at >= run.at && other.at < run.at + 1_000).length).toBeLessThanOrEqual(2);
    }
    expect(runs[5]!.at - startedAt).toBeGreaterThanOrEqual(2_000);
    await queue.shutdown();
  });

  it('shutdown drops waiting keys and timers, and resolves only after the running reconcile ends', async () => {
    const release = deferred();
    const ran: string[] = [];
    const queue = new WorkQueue({
      name: 'test',
      concurrency: 1,
      reconcile: async (key) => {
        ran.push(key);
        if (key === 'ns/slow') await release.promise;
      },
    });
    queue.start();
    queue.add('ns/slow');
    queue.add('ns/waiting');
    queue.addAfter('ns/later', 10);
    await vi.waitFor(() => expect(ran).toEqual(['ns/slow']));

    let finished = false;
    const stopping = queue.shutdown().then(() => (finished = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(finished).toBe(false);
    queue.add('ns/after-shutdown');
    release.resolve();
    await stopping;
    await new Promise((r) => setTimeout(r, 30));
    expect(ran).toEqual(['ns/slow']);
    expect(queue.len()).toBe(0);
  });

  it('records controller-runtime and workqueue metrics', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    let call = 0;
    const queue = new WorkQueue({
      name: 'user',
      concurrency: 3,
      metrics,
      backoff: { baseMs: 1, maxMs: 1 },
      reconcile: async () => {
        if (++call === 1) throw new Error('flaky');
        if (call === 2) return { requeueAt: new Date(Date.now() + DAY_MS) };
      },
    });
    queue.add('ns/a');
    queue.add('ns/a');
    queue.start();
    await vi.waitFor(() => expect(call).toBe(2));
    await queue.idle();
    const text = await metrics.text();
    expect(text).toContain('controller_runtime_reconcile_total{controller="user",result="error"} 1');
    expect(text).toContain('controller_runtime_reconcile_total{controller="user",result="requeue_after"} 1');
    expect(text).toContain('controller_runtime_reconcile_errors_total{controller="user"} 1');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_count{controller="user"} 2');
    expect(text).toContain('controller_runtime_max_concurrent_reconciles{controller="user"} 3');
    expect(text).toContain('controller_runtime_active_workers{controller="user"} 0');
    expect(text).toContain('workqueue_adds_total{name="user"} 2'); // the first add and the retry
    expect(text).toContain('workqueue_retries_total{name="user"} 1');
    expect(text).toContain('workqueue_depth{name="user"} 0');
    expect(text).toContain('workqueue_work_duration_seconds_count{name="user"} 2');
    expect(text).toContain('workqueue_queue_duration_seconds_count{name="user"} 2');
    await queue.shutdown();
  });
});

describe('WorkQueue urgency', () => {
  it('an urgent key runs before every key queued ahead of it, and an urgent add lifts a waiting key', async () => {
    const order: string[] = [];
    const queue = new WorkQueue({ name: 'test', concurrency: 1, reconcile: async (key) => void order.push(key) });
    for (let i = 0; i < 50; i++) queue.add(`ns/joiner-${i}`);
    queue.add('ns/leaver', { urgent: true });
    queue.add('ns/joiner-30', { urgent: true }); // already waiting: moved ahead
    queue.start();
    await queue.idle();
    expect(order.slice(0, 2)).toEqual(['ns/leaver', 'ns/joiner-30']);
    expect(order).toHaveLength(50 + 1);
    expect(order.slice(2)).toEqual(Array.from({ length: 50 }, (_, i) => `ns/joiner-${i}`).filter((k) => k !== 'ns/joiner-30'));
  });

  it('urgent keys have workers of their own: a burst of leavers starts while every worker is busy, each runs once, and a key is never run twice at once', async () => {
    const gate = deferred();
    const running = new Set<string>();
    const runs: string[] = [];
    let overlap = false;
    const queue = new WorkQueue({
      name: 'test',
      concurrency: 2,
      urgentConcurrency: 3,
      reconcile: async (key) => {
        if (running.has(key)) overlap = true;
        running.add(key);
        runs.push(key);
        if (key.startsWith('ns/joiner')) await gate.promise;
        else await new Promise((resolve) => setImmediate(resolve));
        running.delete(key);
      },
    });
    for (let i = 0; i < 4; i++) queue.add(`ns/joiner-${i}`);
    queue.start();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toEqual(['ns/joiner-0', 'ns/joiner-1']); // both workers held
    for (let i = 0; i < 5; i++) queue.add(`ns/leaver-${i}`, { urgent: true });
    queue.add('ns/joiner-3', { urgent: true }); // waiting, now urgent: the urgent workers take it too
    queue.add('ns/leaver-0', { urgent: true }); // again while waiting or running
    for (let i = 0; i < 20 && runs.filter((k) => k.startsWith('ns/leaver')).length < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    // Every leaver ran while the two workers still held their joiners.
    expect(new Set(runs.filter((k) => k.startsWith('ns/leaver')))).toEqual(new Set(Array.from({ length: 5 }, (_, i) => `ns/leaver-${i}`)));
    expect(runs).toContain('ns/joiner-3');
    gate.resolve();
    await queue.idle();
    expect(overlap).toBe(false);
    // Each key as often as it was due: the joiners and the leavers once, leaver-0 at most twice (added again while it ran).
    for (const key of ['ns/joiner-0', 'ns/joiner-1', 'ns/joiner-2', 'ns/joiner-3', 'ns/leaver-1'])
      expect(
        runs.filter((k) => k === key),
        key,
      ).toHaveLength(1);
    expect(runs.filter((k) => k === 'ns/leaver-0').length).toBeLessThanOrEqual(2);
  });

  it('a key made urgent while it runs runs again ahead of the waiting ones; its urgency ends when it starts', async () => {
    const order: string[] = [];
    const gate = deferred();
    const queue = new WorkQueue({
      name: 'test',
      concurrency: 1,
      reconcile: async (key) => {
        order.push(key);
        if (key === 'ns/first' && order.length === 1) await gate.promise;
      },
    });
    queue.add('ns/first');
    queue.start();
    for (let i = 0; i < 5; i++) queue.add(`ns/other-${i}`);
    queue.add('ns/first', { urgent: true });
    gate.resolve();
    await queue.idle();
    expect(order.slice(0, 2)).toEqual(['ns/first', 'ns/first']);
    queue.add('ns/first');
    queue.add('ns/later', { urgent: true });
    await queue.idle();
    expect(order.slice(-2)).toEqual(['ns/later', 'ns/first']);
  });
});
