// StatusWrites: a reconcile hands its status write over and ends; the key's next reconcile waits for
// it, a failure comes back as that reconcile's failure, and at most `max` writes run at once.
import { describe, expect, it } from 'vitest';
import { StatusWrites } from '../../../src/controllers/status-writes.ts';

/** A write the test ends by hand. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { write: () => done, open, fail };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('StatusWrites', () => {
  it('start returns while the write runs; settled waits for it', async () => {
    const writes = new StatusWrites({ max: 4, onFailed: () => undefined });
    const a = gate();
    await writes.start('ns/alice', a.write);
    expect(writes.running).toBe(1);
    let settled = false;
    const waiting = writes.settled('ns/alice').then(() => (settled = true));
    await turn();
    expect(settled).toBe(false);
    // Another key does not wait for alice's write.
    await writes.settled('ns/bob');
    a.open();
    await waiting;
    expect(settled).toBe(true);
    expect(writes.running).toBe(0);
  });

  it('at most max writes at once: the next start waits for a slot', async () => {
    const writes = new StatusWrites({ max: 2, onFailed: () => undefined });
    const [a, b, c] = [gate(), gate(), gate()];
    await writes.start('ns/a', a.write);
    await writes.start('ns/b', b.write);
    let third = false;
    const started = writes.start('ns/c', c.write).then(() => (third = true));
    await turn();
    expect(third).toBe(false);
    b.open();
    await started;
    expect(third).toBe(true);
    a.open();
    c.open();
    await writes.idle();
    expect(writes.running).toBe(0);
  });

  it('a failed write queues its key again, and the next reconcile of that key throws the failure once', async () => {
    const failed: string[] = [];
    const writes = new StatusWrites({ max: 4, onFailed: (key) => failed.push(key) });
    const a = gate();
    await writes.start('ns/alice', a.write);
    a.fail(new Error('the API server is unavailable'));
    await writes.idle();
    expect(failed).toEqual(['ns/alice']);
    await expect(writes.settled('ns/alice')).rejects.toThrow('the API server is unavailable');
    // Thrown once: the retry's reconcile goes ahead.
    await expect(writes.settled('ns/alice')).resolves.toBeUndefined();
  });
});
