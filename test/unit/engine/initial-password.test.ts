import { describe, expect, it } from 'vitest';
import type { AccountStatus, Capabilities } from '../../../src/api/index.ts';
import { dueDeliveries, initialPasswordDecision } from '../../../src/engine/index.ts';
import { generateInitialPassword, initialPasswordSecretKey } from '../../../src/controllers/initial-password.ts';
import { user } from './fixtures.ts';

const can: Capabilities = { disable: true, entitlements: true, attributes: [], initialPassword: true };
const cannot: Capabilities = { disable: true, entitlements: true, attributes: [] };

describe('initialPasswordDecision', () => {
  it('delivers nothing without a policy or under none', () => {
    expect(initialPasswordDecision({ name: 'db', spec: { type: 'postgres' } }, can)).toEqual({ deliver: false });
    expect(initialPasswordDecision({ name: 'db', spec: { type: 'postgres', credentials: { policy: 'none' } } }, cannot)).toEqual({ deliver: false });
  });

  it('delivers with the ttl given, 72h by default', () => {
    expect(initialPasswordDecision({ name: 'db', spec: { type: 'postgres', credentials: { policy: 'initialPassword', ttl: '90m' } } }, can)).toEqual({ deliver: true, ttlMs: 90 * 60_000 });
    expect(initialPasswordDecision({ name: 'db', spec: { type: 'postgres', credentials: { policy: 'initialPassword' } } }, can)).toEqual({ deliver: true, ttlMs: 72 * 3_600_000 });
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
      [account('a', 'present', '2030-01-01T12:00:00.000Z'), account('b', 'present', '2030-01-01T12:00:00.001Z'), account('c', 'present', '2030-01-02T00:00:00Z'), account('d', 'present')],
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

describe('generateInitialPassword', () => {
  it('is 24 characters with every class, and never repeats', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const password = generateInitialPassword();
      expect(password).toHaveLength(24);
      for (const pattern of [/[A-Z]/, /[a-z]/, /[0-9]/, /[-_.+=#%]/]) expect(password).toMatch(pattern);
      expect(password).not.toMatch(/[0O1lI]/);
      seen.add(password);
    }
    expect(seen.size).toBe(500);
  });
});

describe('initialPasswordSecretKey', () => {
  it('names the User and the system, in the User namespace', () => {
    expect(initialPasswordSecretKey(user('alice'), 'ldap')).toEqual({ namespace: 'team-a', name: 'initial-password-alice-ldap' });
  });

  it('stays a valid object name for long names, and two long pairs never share one', () => {
    const long = 'x'.repeat(200);
    const named = { ...user('alice'), metadata: { ...user('alice').metadata, name: long } };
    const a = initialPasswordSecretKey(named, `${long}-a`).name;
    const b = initialPasswordSecretKey(named, `${long}-b`).name;
    expect(a.length).toBeLessThanOrEqual(253);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(a).not.toBe(b);
  });
});
