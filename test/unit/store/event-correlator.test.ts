// The Event correlator (client-go's, in small): repeats count, similar messages combine past ten,
// new Event objects per object and type come from a token bucket.
import { describe, expect, it } from 'vitest';
import {
  COMBINED_PREFIX,
  EventCorrelator,
  MAX_SIMILAR,
  SPAM_BURST,
  SPAM_REFILL_MS,
  WINDOW_MS,
  type EventDecision,
} from '../../../src/store/event-correlator.ts';

function correlator() {
  let now = Date.parse('2026-03-01T00:00:00Z');
  let n = 0;
  const events = new EventCorrelator(
    () => now,
    (name) => `${name}.${++n}`,
  );
  return { events, advance: (ms: number) => (now += ms) };
}

const alice = { kind: 'User', namespace: 'acme', name: 'alice', uid: 'u1', type: 'Normal', reason: 'AccountCreated' };

describe('EventCorrelator', () => {
  it('the same Event again raises the count of the first one', () => {
    const { events } = correlator();
    expect(events.decide(alice, 'db: created')).toEqual({ action: 'create', name: 'alice.1', message: 'db: created' });
    const again = events.decide(alice, 'db: created');
    expect(again).toMatchObject({ action: 'count', name: 'alice.1', count: 2, message: 'db: created' });
    expect(events.decide(alice, 'db: created')).toMatchObject({ action: 'count', name: 'alice.1', count: 3 });
    // Another reason, another object: Events of their own.
    expect(events.decide({ ...alice, reason: 'EntitlementGranted' }, 'db: created')).toMatchObject({ action: 'create', name: 'alice.2' });
    expect(events.decide({ ...alice, name: 'bob', uid: 'u2' }, 'db: created')).toMatchObject({ action: 'create', name: 'bob.3' });
  });

  it(`past ${MAX_SIMILAR} different messages of one reason, the rest are one combined Event with a count`, () => {
    const { events, advance } = correlator();
    const system = { ...alice, kind: 'ConnectedSystem', name: 'db', uid: 's1', reason: 'AccountDisabled' };
    const decisions: EventDecision[] = [];
    for (let i = 0; i < 25; i++) decisions.push(events.decide(system, `orphan u${i}: disabled`));
    expect(decisions.slice(0, MAX_SIMILAR).every((d) => d.action === 'create' && !d.message.startsWith(COMBINED_PREFIX))).toBe(true);
    expect(decisions[MAX_SIMILAR]).toMatchObject({ action: 'create', message: `${COMBINED_PREFIX}orphan u${MAX_SIMILAR}: disabled` });
    expect(decisions.at(-1)).toMatchObject({ action: 'count', count: 25 - MAX_SIMILAR, message: `${COMBINED_PREFIX}orphan u24: disabled` });
    // Every occurrence is counted once: the Events' counts add up to the 25.
    const counts = new Map<string, number>();
    for (const d of decisions) if (d.action !== 'drop') counts.set(d.name, d.action === 'count' ? d.count : 1);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(25);
    // A message seen before stays its own Event while combining.
    expect(events.decide(system, 'orphan u3: disabled')).toMatchObject({ action: 'count', count: 2 });
    // A new window starts afresh.
    advance(WINDOW_MS);
    expect(events.decide(system, 'orphan u99: disabled')).toMatchObject({ action: 'create', message: 'orphan u99: disabled' });
  });

  it(`an object gets at most ${SPAM_BURST} new Events at once, then one per ${SPAM_REFILL_MS / 60_000} minutes; repeats still count`, () => {
    const { events, advance } = correlator();
    const reasons = Array.from({ length: SPAM_BURST + 5 }, (_, i) => `Reason${i}`);
    const decisions = reasons.map((reason) => events.decide({ ...alice, reason }, 'x'));
    expect(decisions.filter((d) => d.action === 'create')).toHaveLength(SPAM_BURST);
    expect(decisions.slice(SPAM_BURST).every((d) => d.action === 'drop')).toBe(true);
    // A repeat of one let through is not a new object: counted.
    expect(events.decide({ ...alice, reason: 'Reason0' }, 'x')).toMatchObject({ action: 'count', count: 2 });
    // Another object has its own bucket, and so do the object's Warnings: routine Events never starve a tripped guard.
    expect(events.decide({ ...alice, name: 'bob', uid: 'u2' }, 'x')).toMatchObject({ action: 'create' });
    expect(events.decide({ ...alice, type: 'Warning', reason: 'GuardTripped' }, 'x')).toMatchObject({ action: 'create' });
    advance(SPAM_REFILL_MS);
    expect(events.decide({ ...alice, reason: 'Late1' }, 'x')).toMatchObject({ action: 'create' });
    expect(events.decide({ ...alice, reason: 'Late2' }, 'x')).toEqual({ action: 'drop' });
  });

  it('a repeat after the window is a new Event', () => {
    const { events, advance } = correlator();
    events.decide(alice, 'db: created');
    advance(WINDOW_MS);
    expect(events.decide(alice, 'db: created')).toMatchObject({ action: 'create', name: 'alice.2' });
  });
});
