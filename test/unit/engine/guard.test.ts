import { describe, expect, it } from 'vitest';
import type { AccountChange } from '../../../src/api/index.ts';
import { approvedDeprovisionCount, checkDeletionGuard, deprovisionCount, type DeletionGuard } from '../../../src/engine/index.ts';
import { desired } from './fixtures.ts';

describe('deprovisionCount', () => {
  it('counts distinct users with a disable or delete', () => {
    const changes: AccountChange[] = [
      { op: 'revoke', userName: 'a', entitlement: 'x' },
      { op: 'disable', userName: 'a' },
      { op: 'delete', userName: 'b' },
      { op: 'delete', userName: 'b' },
      { op: 'create', account: desired('c', 'present') },
      { op: 'enable', userName: 'd' },
    ];
    expect(deprovisionCount(changes)).toBe(2);
  });
});

describe('checkDeletionGuard', () => {
  const cases: Array<{ name: string; count: number; managed: number; guard: DeletionGuard; approvedCount?: number; limit?: number }> = [
    { name: 'no guard never trips', count: 1000, managed: 1000, guard: undefined },
    { name: 'empty guard never trips', count: 1000, managed: 1000, guard: {} },
    { name: 'at maxCount passes', count: 5, managed: 100, guard: { maxCount: 5 } },
    { name: 'over maxCount trips', count: 6, managed: 100, guard: { maxCount: 5 }, limit: 5 },
    { name: 'maxPercent is floored', count: 3, managed: 29, guard: { maxPercent: 10 }, limit: 2 },
    { name: 'the stricter of count and percent applies', count: 4, managed: 1000, guard: { maxCount: 3, maxPercent: 10 }, limit: 3 },
    { name: 'the stricter of count and percent applies (percent)', count: 4, managed: 20, guard: { maxCount: 30, maxPercent: 10 }, limit: 2 },
    { name: 'approval of exactly the count releases it', count: 6, managed: 100, guard: { maxCount: 5 }, approvedCount: 6 },
    { name: 'approval of another count does not', count: 7, managed: 100, guard: { maxCount: 5 }, approvedCount: 6, limit: 5 },
    { name: 'maxCount 0 trips on the first deprovision', count: 1, managed: 100, guard: { maxCount: 0 }, limit: 0 },
  ];
  it.each(cases)('$name', ({ count, managed, guard, approvedCount, limit }) => {
    const verdict = checkDeletionGuard({ count, managed, guard, approvedCount });
    if (limit === undefined) {
      expect(verdict).toEqual({ tripped: false });
    } else {
      expect(verdict).toMatchObject({ tripped: true, count, limit });
      if (!verdict.tripped) return;
      expect(verdict.message).toContain(String(count));
      expect(verdict.message).toContain(String(limit));
      expect(verdict.message).toContain('spec.deletionGuard');
      expect(verdict.message).toContain(`rollcall.dev/approve-deprovision="${count}"`);
    }
  });
});

describe('approvedDeprovisionCount', () => {
  it.each<{ annotations: Record<string, string> | undefined; want: number | undefined }>([
    { annotations: undefined, want: undefined },
    { annotations: {}, want: undefined },
    { annotations: { 'rollcall.dev/approve-deprovision': '12' }, want: 12 },
    { annotations: { 'rollcall.dev/approve-deprovision': ' 3 ' }, want: 3 },
    { annotations: { 'rollcall.dev/approve-deprovision': 'yes' }, want: undefined },
    { annotations: { 'rollcall.dev/approve-deprovision': '-1' }, want: undefined },
  ])('$annotations → $want', ({ annotations, want }) => {
    expect(approvedDeprovisionCount(annotations)).toBe(want);
  });
});
