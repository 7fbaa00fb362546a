// A scheduled review whose due date lies far back (dueDate 1970, schedule 1d) completes once and
// creates one next campaign, due at the next period after now: not one review per missed day.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { TestClock } from '../../../src/clock/clock.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { nextDue } from '../../../src/engine/index.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { Metrics } from '../../../src/process/metrics.ts';
import { storeFromManifests } from '../../helpers/store-from-manifests.ts';

const T0 = new Date('2026-11-30T09:00:00Z');
const DAY = 86_400_000;

describe('nextDue', () => {
  it('is the first period after now, counted from the due date', () => {
    expect(nextDue(0, DAY, T0.getTime()).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(nextDue(Date.parse('2026-12-01T00:00:00Z'), 90 * DAY, T0.getTime()).toISOString()).toBe('2027-03-01T00:00:00.000Z');
    // Due exactly now: the next one is a whole period later, never due at once again.
    expect(nextDue(T0.getTime(), DAY, T0.getTime()).getTime()).toBe(T0.getTime() + DAY);
  });
});

describe('a review due in 1970 with a daily schedule', () => {
  let dir = '';
  let store: MemoryStore;
  let manager: Manager;
  const clock = new TestClock(T0);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-review-catch-up-'));
    writeFileSync(
      join(dir, 'review.yaml'),
      'apiVersion: rollcall.dev/v1alpha1\nkind: AccessReview\nmetadata: {name: daily, namespace: team-a}\nspec: {scope: {}, reviewers: [rita], dueDate: "1970-01-01T00:00:00Z", defaultDecision: keep, schedule: 1d}\n',
    );
    ({ store } = storeFromManifests(dir, { logger: pino({ level: 'silent' }), clock }));
    manager = new Manager({ store, logger: pino({ level: 'silent' }), metrics: new Metrics({ defaultMetrics: false }), clock });
    await manager.start();
    await manager.idle();
  });
  afterAll(async () => {
    await manager?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('completes and creates one next review, due tomorrow; a day later, one more', async () => {
    const names = () =>
      store
        .list('AccessReview', 'team-a')
        .map((r) => r.metadata.name)
        .sort();
    expect(names()).toEqual(['daily', 'daily-20261201']);
    expect(store.get('AccessReview', { namespace: 'team-a', name: 'daily' })!.status).toMatchObject({ phase: 'Completed', nextReview: 'daily-20261201' });
    expect(store.get('AccessReview', { namespace: 'team-a', name: 'daily-20261201' })!.status).toMatchObject({ phase: 'Open' });
    clock.advance(DAY);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the due timer fires on a later tick
    await manager.idle();
    expect(names()).toEqual(['daily', 'daily-20261201', 'daily-20261202']);
  });
});
