import { describe, expect, it } from 'vitest';
import { bindingSelectsUser } from '../../../src/engine/index.ts';
import { binding, user } from './fixtures.ts';

describe('bindingSelectsUser', () => {
  const alice = user('alice', {}, { labels: { team: 'data' } });
  it.each([
    { name: 'by metadata.name', subject: binding('b', { role: 'r', users: ['alice'] }), want: true },
    { name: 'by label', subject: binding('b', { role: 'r', userSelector: { matchLabels: { team: 'data' } } }), want: true },
    { name: 'an empty selector selects everyone, as in Kubernetes', subject: binding('b', { role: 'r', userSelector: {} }), want: true },
    { name: 'another user by name', subject: binding('b', { role: 'r', users: ['bob'] }), want: false },
    { name: 'another namespace, even by name', subject: binding('b', { role: 'r', users: ['alice'] }, { namespace: 'other' }), want: false },
  ])('$name → $want', ({ subject, want }) => {
    expect(bindingSelectsUser(subject, alice)).toBe(want);
  });
});
