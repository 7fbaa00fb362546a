import { describe, expect, it } from 'vitest';
import type { AccountStatus, Capabilities } from '../../../src/api/index.ts';
import { dueDeliveries, initialPasswordDecision } from '../../../src/engine/index.ts';

const can: Capabilities = { disable: true, entitlements: true, attributes: [], initialPassword: true };
const cannot: Capabilities = { disable: true, entitlements: true, attributes: [] };

describe('initialPasswordDecision', () => {
  it('delivers nothing without a policy or under none', () => {
    expect(initialPasswordDecision({ name: 'db', spec: { type: 'postgres' } }, can)).toEqual({ deliver: false });
    expect(initialPasswordDecision({ name: 'db', spec: { type: 'postgres', credentials: { policy: 'none' } } }, cannot)).toEqual({ deliver: false });
  });

  it('delivers with the ttl given, 72h by default', () => {
    expect(initialPasswordDecision({ name: 'db', spec: { type: 'postgres', credentials: { policy: 'initialPassword', ttl: '90m' } } }, can)).toEqual({
      deliver: true,
      ttlMs: 90 * 60_000,
    });
    expect(initialPasswordDecision({ name: 'db', spec: { type: 'postgres', credentials: { policy: 'initialPassword' } } }, can)).toEqual({
      deliver: true,
      ttlMs: 72 * 3_600_000,
    });
  });

  it('refuses, naming spec.credentials.policy and the system, when the connector cannot set passwords', () => {
    const decision = initialPasswordDecision({ name: 'app', spec: { type: 'scim', credentials: { policy: 'initialPassword' } } }, cannot);
    expect(decision).toEqual({ refused: expect.stringContaining('spec.credentials.policy is initialPassword') });
    expect((decision as { refused: string }).refused).toContain('ConnectedSystem app (type scim) cannot set a password');
  });
});

describe('dueDeliveries', () => {
  const now = new Date('2030-01-01T12:00:00Z');
  const account = (system: string, state: AccountStatus['state'], expiresAt?: string): AccountStatus => ({
    system,
    state,
    ...(expiresAt && { initialPassword: { secretName: `initial-password-alice-${system}`, expiresAt } }),
  });

  it('is due at its expiry, not a millisecond before, and wakes at the earliest one kept', () => {
    const { due, nextAt } = dueDeliveries(
      [
        account('a', 'present', '2030-01-01T12:00:00.000Z'),
        account('b', 'present', '2030-01-01T12:00:00.001Z'),
        account('c', 'present', '2030-01-02T00:00:00Z'),
        account('d', 'present'),
      ],
      now,
    );
    expect(due.map((a) => a.system)).toEqual(['a']);
    expect(nextAt?.toISOString()).toBe('2030-01-01T12:00:00.001Z');
  });

  it('is due at once when the account no longer lets the person in', () => {
    const { due, nextAt } = dueDeliveries([account('a', 'disabled', '2030-02-01T00:00:00Z'), account('b', 'absent', '2030-02-01T00:00:00Z')], now);
    expect(due.map((a) => a.system)).toEqual(['a', 'b']);
    expect(nextAt).toBeUndefined();
  });
});
