// Which account syncs go ahead of a system's other work (Connections' priority): a leaver's, and
// one whose grant ended (an expiry, a mover's revoke); a joiner's or an unchanged one's wait their turn.
import { describe, expect, it } from 'vitest';
import type { AccountStatus, DesiredAccount } from '../../../src/api/index.ts';
import { takesAccessAway } from '../../../src/controllers/sync-account.ts';

const desired = (state: DesiredAccount['state'], entitlements: string[]): DesiredAccount => ({
  system: 'ldap',
  userName: 'alice',
  state,
  attributes: {},
  entitlements,
});
const recorded = (entitlements: string[]): AccountStatus => ({ system: 'ldap', state: 'present', entitlements });

describe('takesAccessAway', () => {
  it('a leaver goes first, whatever it held', () => {
    expect(takesAccessAway(desired('disabled', []), recorded(['vpn']))).toBe(true);
    expect(takesAccessAway(desired('absent', []), undefined)).toBe(true);
  });
  it('a grant that ended goes first; one added, or none changed, does not', () => {
    expect(takesAccessAway(desired('present', ['staff']), recorded(['staff', 'vpn']))).toBe(true);
    expect(takesAccessAway(desired('present', ['staff', 'vpn']), recorded(['staff']))).toBe(false);
    expect(takesAccessAway(desired('present', ['staff']), recorded(['staff']))).toBe(false);
    expect(takesAccessAway(desired('present', ['staff']), undefined)).toBe(false);
  });
});
