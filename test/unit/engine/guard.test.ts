import { describe, expect, it } from 'vitest';
import type { AccountChange } from '../../../src/api/index.ts';
import { approvedDeprovisionCount, checkDeletionGuard, deprovisionCount, type DeletionGuard } from '../../../src/engine/index.ts';
import { desired } from './fixtures.ts';

describe('deprovisionCount', () => {
  it('counts distinct users with a disable, delete or revoke', () => {
    const changes: AccountChange[] = [
      { op: 'revoke', userName: 'a', entitlement: 'x' },
      { op: 'disable', userName: 'a' },
      { op: 'delete', userName: 'b' },
      { op: 'delete', userName: 'b' },
      { op: 'create', account: desired('c', 'present') },
      { op: 'enable', userName: 'd' },
      { op: 'revoke', userName: 'e', entitlement: 'x' },
      { op: 'revoke', userName: 'e', entitlement: 'y' },
      { op: 'grant', userName: 'f', entitlement: 'x' },
    ];
    expect(deprovisionCount(changes)).toBe(3);
  });
});

describe('checkDeletionGuard', () => {
  const cases: Array<{ name: string; count: number; managed: number; guard: DeletionGuard; approvedCount?: number; limit?: number }> = [
    { name: 'no guard: the default lets 10 through on a small system', count: 10, managed: 12, guard: undefined },
    { name: 'no guard: the default holds the 11th on a small system', count: 11, managed: 12, guard: undefined, limit: 10 },
    { name: 'no guard: the default allows 20% of a large system', count: 200, managed: 1000, guard: undefined },
    { name: 'no guard: the default holds past 20% of a large system', count: 201, managed: 1000, guard: undefined, limit: 200 },
    { name: 'an empty guard is the default', count: 1000, managed: 1000, guard: {}, limit: 200 },
    { name: 'maxPercent 100 lets everything through', count: 1000, managed: 1000, guard: { maxPercent: 100 } },
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
      if (guard === undefined || Object.keys(guard).length === 0) expect(verdict.message).toContain('whichever is larger');
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
