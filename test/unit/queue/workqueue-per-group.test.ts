// perGroup: one group's (one namespace's) keys never take every worker. team-a's five stalled keys
// hold at most two workers; team-b's key runs at once; team-a's others run as its slots free up,
// and a key parked while waiting is still deduplicated and counted as queued.
import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../src/queue/workqueue.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue perGroup', () => {
  it("one namespace's stalled keys hold at most its share of workers; another namespace's key runs meanwhile", async () => {
    const release = new Map<string, { promise: Promise<void>; resolve: () => void }>();
    const started: string[] = [];
    const queue = new WorkQueue({
      name: 'test',
      concurrency: 4,
      perGroup: { of: (key) => key.slice(0, key.indexOf('/')), max: 2 },
      reconcile: async (key) => {
        started.push(key);
        const gate = deferred();
        release.set(key, gate);
        await gate.promise;
      },
    });
    queue.start();
    for (let i = 1; i <= 5; i++) queue.add(`team-a/feed-${i}`);
    queue.add('team-b/hr');
    await expect.poll(() => started).toContain('team-b/hr');
    expect(started.filter((k) => k.startsWith('team-a/'))).toEqual(['team-a/feed-1', 'team-a/feed-2']);
    // Parked keys are still queued: added again, they run once.
    expect(queue.has('team-a/feed-5')).toBe(true);
    queue.add('team-a/feed-5');
    expect(queue.len()).toBe(3);

    release.get('team-a/feed-1')!.resolve();
    await expect.poll(() => started.length).toBe(4);
    expect(started.at(-1)).toBe('team-a/feed-3');
    for (const key of ['team-a/feed-2', 'team-a/feed-3', 'team-b/hr']) release.get(key)!.resolve();
    await expect.poll(() => started.length).toBe(6);
    release.get('team-a/feed-4')!.resolve();
    release.get('team-a/feed-5')!.resolve();
    await queue.idle();
    expect(started.filter((k) => k === 'team-a/feed-5')).toHaveLength(1);
    expect(queue.isIdle()).toBe(true);
  });
});
