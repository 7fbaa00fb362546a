import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMEOUT_MS, setLongTimer } from '../../../src/runtime/long-timer.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('setLongTimer', () => {
  it('fires at the target time even beyond the setTimeout limit, not before', async () => {
    vi.useFakeTimers();
    const fired: number[] = [];
    const target = Date.now() + 3 * MAX_TIMEOUT_MS + 123;
    setLongTimer(target, () => fired.push(Date.now()));
    await vi.advanceTimersByTimeAsync(3 * MAX_TIMEOUT_MS + 122);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual([target]);
  });

  it('fires a past target on the next tick, and never after cancel()', async () => {
    vi.useFakeTimers();
    let past = 0;
    let cancelled = 0;
    setLongTimer(Date.now() - 1_000, () => past++);
    const timer = setLongTimer(Date.now() + 10, () => cancelled++);
    expect(past).toBe(0);
    timer.cancel();
    await vi.advanceTimersByTimeAsync(100);
    expect(past).toBe(1);
    expect(cancelled).toBe(0);
  });

  it('never keeps the process alive: a queue with a wake-up in an hour lets node exit', () => {
    const queue = resolve(import.meta.dirname, '../../../src/runtime/workqueue.ts');
    const script = `
      const { WorkQueue } = await import(${JSON.stringify(queue)});
      const q = new WorkQueue({ name: 't', concurrency: 1, reconcile: async () => {} });
      q.start();
      q.addAfter('ns/a', 3_600_000);
      q.addAfter('ns/b', 100 * 24 * 3_600_000);
    `;
    const started = Date.now();
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
