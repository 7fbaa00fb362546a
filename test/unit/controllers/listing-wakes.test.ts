// After a listing only the Users it gives something to do are woken: an account changed or deleted
// by hand, a status that disagrees with the listing or says something is pending, a leaver, a User
// that does not hold its userName. A User whose account is as declared and recorded is left alone.
import { describe, expect, it } from 'vitest';
import type { ObservedAccount, Snapshot, User } from '../../../src/api/index.ts';
import { usersTheListingConcerns } from '../../../src/controllers/listing-wakes.ts';
import { desiredAccounts } from '../../../src/engine/index.ts';
import { binding, FULL, grants, NOW, role, system, user } from '../engine/fixtures.ts';

const wiki = system('wiki');
const staff = role('staff', { grants: grants({ wiki: ['all', 'docs'] }) });
const staffBinding = binding('staff', { role: 'staff', userSelector: { matchLabels: { staff: 'yes' } } });

/** A staff member whose status records the account as the listing shows it. */
const member = (name: string, extra: { userName?: string; created?: string; state?: 'active' | 'terminated' } = {}) =>
  user(
    name,
    { userName: extra.userName ?? name, state: extra.state ?? 'active' },
    { labels: { staff: 'yes' }, ...(extra.created && { creationTimestamp: extra.created }) },
    { accounts: [{ system: 'wiki', state: 'present', entitlements: ['all', 'docs'] }] },
  );

/** The account exactly as declared for `u`. */
function declared(u: User): ObservedAccount {
  const [wanted] = desiredAccounts(u, [staffBinding], [staff], [wiki], NOW);
  return { userName: u.spec.userName, id: u.spec.userName, state: 'present', attributes: wanted!.attributes, entitlements: wanted!.entitlements };
}

async function woken(users: User[], listed: Map<string, ObservedAccount>): Promise<string[]> {
  const snapshot: Snapshot = { world: { bindings: [staffBinding], roles: [staff], systems: [wiki], reviews: [], users }, now: NOW };
  return (await usersTheListingConcerns(wiki, snapshot, listed, FULL)).map((u) => u.metadata.name);
}

describe('usersTheListingConcerns', () => {
  it('leaves a User alone whose account is as declared and as its status records it', async () => {
    const ada = member('ada');
    expect(await woken([ada], new Map([['ada', declared(ada)]]))).toEqual([]);
  });

  it('wakes the Users whose account was changed or deleted by hand', async () => {
    const [lost, group, renamed] = [member('lost'), member('group'), member('renamed')];
    const listed = new Map([
      ['group', { ...declared(group), entitlements: ['all'] }],
      ['renamed', { ...declared(renamed), attributes: { ...declared(renamed).attributes, displayName: 'Someone Else' } }],
    ]);
    expect(await woken([lost, group, renamed], listed)).toEqual(['lost', 'group', 'renamed']);
  });

  it('wakes a User whose status disagrees with the listing, or says something is pending', async () => {
    const stale = { ...member('stale'), status: { accounts: [{ system: 'wiki', state: 'disabled' as const, entitlements: ['all', 'docs'] }] } };
    const failed = { ...member('failed'), status: { accounts: [{ system: 'wiki', state: 'error' as const, message: 'timeout' }] } };
    const held = {
      ...member('held'),
      status: { accounts: [{ system: 'wiki', state: 'present' as const, entitlements: ['all', 'docs'], message: 'deprovision held by the deletion guard' }] },
    };
    const unrecorded = { ...member('unrecorded'), status: {} };
    const users = [stale, failed, held, unrecorded] as User[];
    const listed = new Map(users.map((u) => [u.spec.userName, declared(u)]));
    expect(await woken(users, listed)).toEqual(['stale', 'failed', 'held', 'unrecorded']);
  });

  it('wakes leavers, Users being deleted, and a User that does not hold its userName', async () => {
    const leaver = member('leaver', { state: 'terminated' });
    const deleting = { ...member('deleting'), metadata: { ...member('deleting').metadata, deletionTimestamp: '2026-05-31T00:00:00Z' } };
    const older = member('older', { userName: 'shared', created: '2025-01-01T00:00:00Z' });
    const younger = member('younger', { userName: 'shared' });
    const users = [leaver, deleting, older, younger];
    // The account of the userName is the older User's, as declared for it.
    const listed = new Map([leaver, deleting, older].map((u) => [u.spec.userName, declared(u)]));
    expect(await woken(users, listed)).toEqual(['leaver', 'deleting', 'younger']);
  });

  it('leaves a User alone that has nothing in the system and is given nothing there', async () => {
    const outsider = user('outsider');
    expect(await woken([outsider], new Map())).toEqual([]);
  });
});
