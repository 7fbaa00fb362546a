import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMEOUT_MS, systemClock, TestClock } from '../../../src/clock/clock.ts';

afterEach(() => {
  vi.useRealTimers();
});

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('systemClock', () => {
  it('fires at the target time even beyond the setTimeout limit, not before', async () => {
    vi.useFakeTimers();
    const fired: number[] = [];
    const target = systemClock.now().getTime() + 3 * MAX_TIMEOUT_MS + 123;
    systemClock.setTimer(new Date(target), () => fired.push(systemClock.now().getTime()));
    await vi.advanceTimersByTimeAsync(3 * MAX_TIMEOUT_MS + 122);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual([target]);
  });

  it('fires a past target on the next tick, and never after cancel()', async () => {
    vi.useFakeTimers();
    let past = 0;
    let cancelled = 0;
    const now = systemClock.now().getTime();
    systemClock.setTimer(new Date(now - 1_000), () => past++);
    const timer = systemClock.setTimer(new Date(now + 10), () => cancelled++);
    expect(past).toBe(0);
    timer.cancel();
    await vi.advanceTimersByTimeAsync(100);
    expect(past).toBe(1);
    expect(cancelled).toBe(0);
  });

  it('never keeps the process alive: a queue with a wake-up in an hour lets node exit', () => {
    const queue = resolve(import.meta.dirname, '../../../src/queue/workqueue.ts');
    const script = `
      const { WorkQueue } = await import(${JSON.stringify(queue)});
      const q = new WorkQueue({ name: 't', concurrency: 1, reconcile: async () => {} });
      q.start();
      q.addAfter('ns/a', 3_600_000);
      q.addAfter('ns/b', 100 * 24 * 3_600_000);
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.signal).toBeNull();
  });
});

describe('TestClock', () => {
  it('frozen: time moves only by set/advance, which fire exactly the timers that became due', async () => {
    const clock = new TestClock(new Date('2016-02-29T12:00:00Z'));
    const fired: string[] = [];
    clock.setTimer(new Date('2016-02-29T12:00:01Z'), () => fired.push('1s'));
    clock.setTimer(new Date('2016-02-29T13:00:00Z'), () => fired.push('1h'));
    clock.setTimer(new Date('2016-02-29T11:00:00Z'), () => fired.push('past'));
    expect(fired).toEqual([]); // never inside the call
    await tick();
    expect(fired).toEqual(['past']);
    expect(clock.now().toISOString()).toBe('2016-02-29T12:00:00.000Z');
    clock.advance(999);
    await tick();
    expect(fired).toEqual(['past']);
    clock.advance(1);
    await tick();
    expect(fired).toEqual(['past', '1s']);
    expect(clock.pendingTimers).toBe(1);
    clock.set(new Date('2040-01-01T00:00:00Z'));
    await tick();
    expect(fired).toEqual(['past', '1s', '1h']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('cancel() removes a timer before it fires', async () => {
    const clock = new TestClock(new Date('2035-06-01T00:00:00Z'));
    let fired = 0;
    clock.setTimer(new Date('2035-06-01T00:00:05Z'), () => fired++).cancel();
    clock.advance(10_000);
    await tick();
    expect(fired).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('flowing: runs at real speed from any date, so a wake-up 30 ms ahead fires after about 30 ms', async () => {
    const clock = new TestClock(new Date('2009-01-01T00:00:00Z'), { flowing: true });
    const start = clock.now().getTime();
    let firedAt = 0;
    clock.setTimer(new Date(start + 30), () => (firedAt = clock.now().getTime()));
    await tick();
    expect(firedAt).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(firedAt).toBeGreaterThanOrEqual(start + 30);
    expect(firedAt).toBeLessThan(start + 10_000);
  });
});
