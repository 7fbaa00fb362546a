import { describe, expect, it } from 'vitest';
import { Recent } from '../../../src/connectors/recent.ts';

describe('Recent: facts trusted for a while', () => {
  it('forgets a fact once its time is up, and when told to', () => {
    let now = 1000;
    const recent = new Recent<string>(60_000, () => now);
    recent.set('alice', 'uid=alice,ou=people,dc=example,dc=org');
    recent.set('bob', 'uid=bob,ou=people,dc=example,dc=org');
    now += 60_000;
    expect(recent.get('alice')).toBe('uid=alice,ou=people,dc=example,dc=org');
    recent.delete('bob');
    expect(recent.get('bob')).toBeUndefined();
    now += 1;
    expect(recent.get('alice')).toBeUndefined();
  });

  it('counts from the latest time a fact was learnt', () => {
    let now = 0;
    const recent = new Recent<boolean>(100, () => now);
    recent.set('group', true);
    now = 90;
    recent.set('group', false);
    now = 150;
    expect(recent.get('group')).toBe(false);
  });

  it('does not keep expired facts around, however many were learnt', () => {
    let now = 0;
    const recent = new Recent<number>(10, () => now);
    for (let i = 0; i < 10_000; i++) recent.set(`user${i}`, i);
    now = 11;
    recent.set('late', 1);
    expect(recent.size).toBe(1);
  });
});
