// The controller's own parts of first passwords: the password drawn, and the Secret's name.
import { describe, expect, it } from 'vitest';
import { generateInitialPassword, initialPasswordSecretKey } from '../../../src/controllers/initial-password.ts';
import { user } from '../engine/fixtures.ts';

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
