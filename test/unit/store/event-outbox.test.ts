// Events the API server refuses are retried with backoff and never dropped in silence.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { TestClock } from '../../../src/clock/clock.ts';
import { EventOutbox } from '../../../src/store/event-outbox.ts';

function harness(options = {}) {
  const clock = new TestClock(new Date('2026-11-30T09:00:00Z'));
  const logs: Array<{ level: number; msg: string; lostEvent?: unknown }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const posted: string[] = [];
  let failing = true;
  const outbox = new EventOutbox<string>(
    async (event) => {
      if (failing) throw new Error('503 Service Unavailable');
      posted.push(event);
    },
    clock,
    pino({ level: 'info' }, sink),
    options,
  );
  return { clock, logs, posted, outbox, heal: () => (failing = false) };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 1));
};

describe('EventOutbox', () => {
  it('keeps what failed and posts it once the API server takes Events again, in order', async () => {
    const { clock, posted, outbox, heal } = harness();
    await outbox.post('first', 'a');
    await outbox.post('second', 'b');
    expect(outbox.pending).toBe(2);
    clock.advance(1_000);
    await settle();
    expect(outbox.pending).toBe(2); // still failing: kept, with a longer wait
    heal();
    clock.advance(2_000);
    await settle();
    expect(posted).toEqual(['first', 'second']);
    expect(outbox.pending).toBe(0);
  });

  it('logs an Event it gives up on at error level, with the Event itself', async () => {
    const { clock, logs, outbox } = harness({ maxAttempts: 2 });
    await outbox.post('doomed', 'User acme/ann AccountCreated');
    clock.advance(1_000);
    await settle();
    expect(outbox.pending).toBe(0);
    expect(logs.find((l) => l.level === 50)).toMatchObject({ lostEvent: 'doomed', msg: expect.stringMatching(/after 2 attempts/) });
  });

  it('at shutdown, one last attempt; what still fails is logged, not dropped in silence', async () => {
    const { logs, outbox } = harness();
    await outbox.post('late', 'x');
    await outbox.close();
    expect(logs.filter((l) => l.level === 50).map((l) => l.lostEvent)).toEqual(['late']);
  });
});
