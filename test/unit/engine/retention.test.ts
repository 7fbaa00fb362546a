// What a deleted User's status asks a disableThenDelete system to keep, computed alike by the User
// (to know when the system recorded it) and by the system (which reads it off the User's status).
import { describe, expect, it } from 'vitest';
import { retentionEntry } from '../../../src/engine/index.ts';
import { DAY, NOW, at, system, user } from './fixtures.ts';

const wiki = system('wiki', { deprovision: { policy: 'disableThenDelete', retention: '30d' } });
const deleted = (accounts: NonNullable<Parameters<typeof user>[3]>['accounts']) => user('bob', {}, { deletionTimestamp: at(-DAY) }, { accounts });

describe('retentionEntry', () => {
  it('asks to keep an account its status shows disabled, until its retention from disabledAt ends', () => {
    const entry = retentionEntry(deleted([{ system: 'wiki', state: 'disabled', disabledAt: at(-2 * DAY) }]), wiki, NOW.getTime());
    expect(entry).toEqual({ userName: 'bob', user: 'bob', deleteAfter: new Date(NOW.getTime() + 28 * DAY).toISOString() });
  });

  it('asks nothing before the account is disabled, for a User not being deleted, or under another policy', () => {
    expect(retentionEntry(deleted([{ system: 'wiki', state: 'present' }]), wiki, NOW.getTime())).toBeUndefined();
    expect(retentionEntry(deleted([]), wiki, NOW.getTime())).toBeUndefined();
    const active = user('bob', {}, {}, { accounts: [{ system: 'wiki', state: 'disabled', disabledAt: at(-DAY) }] });
    expect(retentionEntry(active, wiki, NOW.getTime())).toBeUndefined();
    const disableOnly = system('wiki', { deprovision: { policy: 'disable' } });
    expect(retentionEntry(deleted([{ system: 'wiki', state: 'disabled', disabledAt: at(-DAY) }]), disableOnly, NOW.getTime())).toBeUndefined();
  });
});
