// An approval pins content, not names: the role's effective entitlements and maxDuration, the
// window, the Users selected by uid and userName. Any change voids it, named; approver, requester
// and subjects are compared as people (lower-case, up to the first @).
import { describe, expect, it } from 'vitest';
import type { AccessBinding, AccessRole, User } from '../../../src/api/index.ts';
import { approvalContent, approvalState, approvedFor, contentChanges, contentDigest, personKey, samePerson } from '../../../src/engine/index.ts';
import { approved, binding, grants, role, user } from './fixtures.ts';

const ROLES = [
  role('db-admin', { requiresApproval: true, maxDuration: '8h', includes: ['db-read'], grants: grants({ analytics: ['pg_admin'] }) }),
  role('db-read', { grants: grants({ analytics: ['pg_read'], wiki: ['readers'] }) }),
];
const carol = user('carol', {}, { uid: 'uid-carol', labels: { team: 'dba' } });
const erin = user('erin', {}, { uid: 'uid-erin', labels: { team: 'dba' } });
const BY_NAME = binding('b', { role: 'db-admin', users: ['carol'], requestedBy: 'alice' });
const BY_SELECTOR = binding('s', { role: 'db-admin', userSelector: { matchLabels: { team: 'dba' } }, requestedBy: 'alice' });
const withRole = (name: string, spec: Parameters<typeof role>[1]) => ROLES.map((r) => (r.metadata.name === name ? role(name, spec) : r));
/** The binding with its status recording the approval as the binding controller does when it comes into force. */
const recorded = (subject: AccessBinding, roles: readonly AccessRole[], users: readonly User[]): AccessBinding => {
  const state = approvalState(subject, roles, users);
  return { ...subject, status: { approval: { state: 'Granted', digest: state.digest, content: state.content } } };
};

describe('approval content', () => {
  it('flattens includes per system, keeps the shortest maxDuration, and selects Users by uid and userName', () => {
    expect(approvalContent(BY_SELECTOR, ROLES, [erin, carol, user('dave', {}, { uid: 'uid-dave' })])).toEqual({
      role: 'db-admin',
      entitlements: ['analytics:pg_admin', 'analytics:pg_read', 'wiki:readers'],
      maxDuration: '8h',
      users: [
        { name: 'carol', uid: 'uid-carol', userName: 'carol' },
        { name: 'erin', uid: 'uid-erin', userName: 'erin' },
      ],
    });
  });

  it('the digest ignores order and spelling, and changes with any content', () => {
    const content = approvalContent(BY_SELECTOR, ROLES, [carol, erin])!;
    expect(contentDigest(approvalContent(BY_SELECTOR, [...ROLES].reverse(), [erin, carol])!)).toBe(contentDigest(content));
    const spelled = { ...content, validUntil: '2030-01-01T00:00:00Z' };
    expect(contentDigest({ ...content, validUntil: '2030-01-01T00:00:00.000Z' })).toBe(contentDigest(spelled));
    expect(contentDigest(content)).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const changed of [
      { ...content, entitlements: [...content.entitlements, 'analytics:pg_write'] },
      { ...content, maxDuration: '9h' },
      { ...content, users: content.users.slice(1) },
      { ...content, users: [{ ...content.users[0]!, uid: 'other' }, content.users[1]!] },
      { ...content, users: [{ ...content.users[0]!, userName: 'mallory' }, content.users[1]!] },
    ]) {
      expect(contentDigest(changed)).not.toBe(contentDigest(content));
    }
  });

  it('names every change', () => {
    const before = approvalContent(BY_SELECTOR, ROLES, [carol])!;
    const after = approvalContent(
      BY_SELECTOR,
      withRole('db-admin', { requiresApproval: true, includes: ['db-read'], grants: grants({ analytics: ['pg_admin', 'pg_write'] }) }),
      [user('carol', { userName: 'mallory' }, { uid: 'uid-new', labels: { team: 'dba' } }), erin],
    )!;
    expect(contentChanges(before, after, 'team-a')).toEqual([
      'AccessRole team-a/db-admin gained entitlement analytics:pg_write',
      'AccessRole team-a/db-admin dropped maxDuration 8h',
      'User carol was recreated (uid changed from uid-carol to uid-new)',
      "User carol's userName changed from carol to mallory",
      'User erin (uid uid-erin, userName erin) newly selected',
    ]);
    expect(contentChanges(after, before, 'team-a')).toContain('User erin is no longer selected');
    expect(contentChanges(before, before, 'team-a')).toEqual([]);
  });
});

describe('approvalState over content', () => {
  const users = [carol];

  it('grants only the content approved', () => {
    const subject = approved(BY_NAME, 'bob', ROLES, users);
    expect(approvalState(subject, ROLES, users)).toMatchObject({ state: 'Granted', approvedBy: 'bob' });
    expect(approvedFor(approvalState(subject, ROLES, users), carol)).toBe(true);
  });

  it.each([
    [
      'the role gains an entitlement',
      withRole('db-admin', { requiresApproval: true, maxDuration: '8h', includes: ['db-read'], grants: grants({ analytics: ['pg_admin', 'pg_write'] }) }),
      users,
      'AccessRole team-a/db-admin gained entitlement analytics:pg_write',
    ],
    [
      'an included role gains one',
      withRole('db-read', { grants: grants({ analytics: ['pg_read', 'pg_write'], wiki: ['readers'] }) }),
      users,
      'AccessRole team-a/db-admin gained entitlement analytics:pg_write',
    ],
    [
      'the role drops maxDuration',
      withRole('db-admin', { requiresApproval: true, includes: ['db-read'], grants: grants({ analytics: ['pg_admin'] }) }),
      users,
      'AccessRole team-a/db-admin dropped maxDuration 8h',
    ],
    [
      'the User is recreated with another userName',
      ROLES,
      [user('carol', { userName: 'mallory' }, { uid: 'uid-2' })],
      "User carol was recreated (uid changed from uid-carol to uid-2); User carol's userName changed from carol to mallory",
    ],
  ])('voids it when %s, naming the change from the recorded content', (_name, roles, now, change) => {
    const subject = recorded(approved(BY_NAME, 'bob', ROLES, users), ROLES, users);
    const state = approvalState(subject, roles, now);
    expect(state).toMatchObject({ state: 'Voided', message: `${change} since bob approved` });
    for (const u of now) expect(approvedFor(state, u)).toBe(false);
  });

  it('voids a selector approval when a new User is labelled in', () => {
    const subject = recorded(approved(BY_SELECTOR, 'bob', ROLES, [carol]), ROLES, [carol]);
    const state = approvalState(subject, ROLES, [carol, erin]);
    expect(state).toMatchObject({ state: 'Voided', message: 'User erin (uid uid-erin, userName erin) newly selected since bob approved' });
    expect(approvedFor(state, carol)).toBe(false);
  });

  it('without a recorded content it still voids, saying the digests differ', () => {
    const subject = approved(BY_NAME, 'bob', ROLES, users);
    expect(approvalState(subject, ROLES, [carol, user('carol-2')]).state).toBe('Granted');
    const state = approvalState(subject, ROLES, [user('carol', {}, { uid: 'uid-2' })]);
    expect(state.state).toBe('Voided');
    expect(state.message).toMatch(
      /^the role's entitlements or maxDuration, or the Users selected, differ from the content approved \(digest sha256:[0-9a-f]{64}, now sha256:[0-9a-f]{64}\) since bob approved$/,
    );
  });

  it('an approval without a digest grants nothing', () => {
    const subject = approved(BY_NAME, 'bob', ROLES, users);
    const { digest: _, ...withoutDigest } = subject.spec.approval!;
    const state = approvalState({ ...subject, spec: { ...subject.spec, approval: withoutDigest } }, ROLES, users);
    expect(state).toMatchObject({ state: 'Voided' });
    expect(state.message).toMatch(/^the approval records no spec\.approval\.digest of the content bob approved/);
  });

  it('a content recorded for another approval is not used to name changes', () => {
    const other = recorded(approved(BY_NAME, 'bob', ROLES, [erin]), ROLES, [erin]);
    const subject = { ...approved(BY_NAME, 'bob', ROLES, users), status: other.status };
    expect(approvalState(subject, ROLES, [user('carol', {}, { uid: 'uid-2' })]).message).toMatch(/^the role's entitlements or maxDuration/);
  });
});

describe('approver, requester and subjects compared as people', () => {
  it('personKey: lower-case, up to the first @', () => {
    expect(personKey('Carol@Example.org')).toBe('carol');
    expect(personKey('carol')).toBe('carol');
    expect(samePerson('carol@example.org', 'CAROL')).toBe(true);
    expect(samePerson('carol@example.org', 'caroline')).toBe(false);
  });

  it.each([
    [
      'carol@example.org approving the binding of User carol',
      BY_NAME,
      'carol@example.org',
      [carol],
      /carol@example\.org is a subject of this binding \(User carol\)/,
    ],
    [
      "an approver whose name is a named User's userName",
      binding('b', { role: 'db-admin', users: ['c1'], requestedBy: 'alice' }),
      'Carol',
      [user('c1', { userName: 'carol' })],
      /Carol is a subject of this binding \(User c1\)/,
    ],
    [
      "an approver whose name is a named User's e-mail",
      binding('b', { role: 'db-admin', users: ['c1'], requestedBy: 'alice' }),
      'cj@corp.example',
      [user('c1', { userName: 'c1', email: 'cj@example.org' })],
      /is a subject of this binding \(User c1\)/,
    ],
    [
      'the requester in their e-mail form',
      binding('b', { role: 'db-admin', users: ['carol'], requestedBy: 'alice' }),
      'Alice@example.org',
      [carol],
      /Alice@example\.org requested this access \(as alice\)/,
    ],
  ])('%s is voided', (_name, subject, approver, users, message) => {
    const state = approvalState(approved(subject, approver, ROLES, users), ROLES, users);
    expect(state.state).toBe('Voided');
    expect(state.message).toMatch(message);
  });

  it('an approver a selector reaches in their e-mail form gets no access from their own approval', () => {
    const subject = approved(BY_SELECTOR, 'Erin@example.org', ROLES, [carol, erin]);
    const state = approvalState(subject, ROLES, [carol, erin]);
    expect(state.state).toBe('Granted');
    expect(approvedFor(state, carol)).toBe(true);
    expect(approvedFor(state, erin)).toBe(false);
  });
});
