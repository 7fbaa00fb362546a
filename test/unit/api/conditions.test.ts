import { describe, expect, it } from 'vitest';
import type { Condition } from '../../../src/api/index.ts';
import { getCondition, isConditionTrue, removeCondition, setCondition, statusEqual } from '../../../src/api/conditions.ts';

const t0 = new Date('2026-11-26T09:00:00.123Z');
const t1 = new Date('2026-11-26T10:30:00Z');

describe('setCondition', () => {
  it('appends a new condition with the transition time and observed generation', () => {
    const result = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Synced', message: 'all systems in sync' }, 3, t0);
    expect(result).toEqual([
      { type: 'Ready', status: 'True', reason: 'Synced', message: 'all systems in sync', lastTransitionTime: '2026-11-26T09:00:00Z', observedGeneration: 3 },
    ]);
  });

  it('keeps lastTransitionTime when the status stays, but updates reason, message and generation', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'SystemUnavailable', message: 'ldap down' }, 1, t0);
    const second = setCondition(first, { type: 'Ready', status: 'False', reason: 'GuardTripped', message: 'too many deletes' }, 2, t1);
    expect(second[0]).toMatchObject({ reason: 'GuardTripped', message: 'too many deletes', observedGeneration: 2, lastTransitionTime: '2026-11-26T09:00:00Z' });
  });

  it('moves lastTransitionTime when the status flips', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'SystemUnavailable', message: 'ldap down' }, 1, t0);
    const second = setCondition(first, { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok' }, 1, t1);
    expect(second[0]!.lastTransitionTime).toBe('2026-11-26T10:30:00Z');
  });

  it('replaces in place, keeps the order of the others, and never mutates its input', () => {
    const conditions: Condition[] = [
      { type: 'Connected', status: 'True', reason: 'Bound', message: 'bound', lastTransitionTime: '2026-01-01T00:00:00Z' },
      { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' },
    ];
    const snapshot = structuredClone(conditions);
    const result = setCondition(conditions, { type: 'Connected', status: 'False', reason: 'BindFailed', message: 'invalid credentials' }, 4, t1);
    expect(result.map((c) => c.type)).toEqual(['Connected', 'Ready']);
    expect(result[1]).toBe(conditions[1]);
    expect(result).not.toBe(conditions);
    expect(conditions).toEqual(snapshot);
  });

  it('leaves observedGeneration out when it is unknown', () => {
    const result = setCondition([], { type: 'Ready', status: 'Unknown', reason: 'Pending', message: 'not reconciled yet' }, undefined, t0);
    expect('observedGeneration' in result[0]!).toBe(false);
  });
});

describe('reading conditions', () => {
  const conditions = setCondition([], { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok' }, 1, t0);

  it('finds a condition by type and tells whether it is True', () => {
    expect(getCondition(conditions, 'Ready')?.reason).toBe('Synced');
    expect(getCondition(conditions, 'Expired')).toBeUndefined();
    expect(isConditionTrue(conditions, 'Ready')).toBe(true);
    expect(isConditionTrue(conditions, 'Expired')).toBe(false);
    expect(isConditionTrue(undefined, 'Ready')).toBe(false);
  });

  it('removes a condition by type without touching the input', () => {
    expect(removeCondition(conditions, 'Ready')).toEqual([]);
    expect(conditions).toHaveLength(1);
  });
});

describe('statusEqual', () => {
  it('ignores key order and undefined values', () => {
    expect(statusEqual({ a: 1, b: { c: [1, 2], d: 'x' } }, { b: { d: 'x', c: [1, 2] }, a: 1 })).toBe(true);
    expect(statusEqual({ a: 1, message: undefined }, { a: 1 })).toBe(true);
  });

  it('sees changed values, array order, extra keys and type differences', () => {
    expect(statusEqual({ a: 1 }, { a: 2 })).toBe(false);
    expect(statusEqual({ list: [1, 2] }, { list: [2, 1] })).toBe(false);
    expect(statusEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(statusEqual({ a: [] }, { a: {} })).toBe(false);
    expect(statusEqual({ a: null }, { a: {} })).toBe(false);
    expect(statusEqual({ a: '1' }, { a: 1 })).toBe(false);
  });

  it('treats a condition set again with the same values as no change', () => {
    const before = { observedGeneration: 2, conditions: setCondition([], { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok' }, 2, t0) };
    const after = {
      conditions: setCondition(before.conditions, { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok' }, 2, t1),
      observedGeneration: 2,
    };
    expect(statusEqual(before, after)).toBe(true);
  });
});
