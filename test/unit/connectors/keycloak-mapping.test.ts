// The Keycloak connector's pure mappings: entitlement spellings, a user's representation and the
// user profile declarations. Against the real server: test/conformance/keycloak*.
import { describe, expect, it } from 'vitest';
import { parseEntitlement, spelledEntitlements } from '../../../src/connectors/keycloak/entitlements.ts';
import { userNameProblem } from '../../../src/connectors/keycloak/connector.ts';
import { MARKER_ATTRIBUTE, ownerOf } from '../../../src/connectors/keycloak/marker.ts';
import { profileGaps, wantedDeclarations } from '../../../src/connectors/keycloak/profile.ts';
import { editedUser, newUser, readAttributes } from '../../../src/connectors/keycloak/user.ts';

describe('keycloak entitlement spellings', () => {
  it('parses realm, client (split at the last slash) and group entitlements', () => {
    expect(parseEntitlement('realm:vpn-users')).toEqual({ kind: 'realm', role: 'vpn-users' });
    expect(parseEntitlement('client:https://app.example.org/saml/reader')).toEqual({
      kind: 'client',
      clientId: 'https://app.example.org/saml',
      role: 'reader',
    });
    expect(parseEntitlement('group:/staff/engineering')).toEqual({ kind: 'group', path: '/staff/engineering' });
  });

  it('refuses what spells nothing, saying how to spell it', () => {
    for (const name of [
      'vpn-users',
      'realm:',
      'client:grafana',
      'client:/editor',
      'client:grafana/',
      'group:staff',
      'group:/',
      'group:/a//b',
      'group:/a/',
      'role:x',
    ]) {
      expect(parseEntitlement(name), name).toEqual(expect.stringContaining('realm:ROLE, client:CLIENT/ROLE or group:/path/to/group'));
    }
  });

  it('spells a user mappings and groups sorted, without the realm default role', () => {
    const mappings = {
      realmMappings: [{ name: 'vpn-users' }, { name: 'default-roles-acme' }],
      clientMappings: { grafana: { client: 'grafana', mappings: [{ name: 'editor' }] } },
    };
    expect(spelledEntitlements('Acme', mappings as never, ['/staff/engineering'])).toEqual([
      'client:grafana/editor',
      'group:/staff/engineering',
      'realm:vpn-users',
    ]);
  });
});

describe('keycloak users', () => {
  const alice = {
    id: 'u1',
    username: 'alice',
    enabled: true,
    firstName: 'Alice',
    email: 'alice@example.org',
    attributes: { [MARKER_ATTRIBUTE]: ['ns/sso'], title: ['Engineer'], other: ['kept'] },
  };

  it('reads canonical attributes from the built-in fields and the attributes', () => {
    expect(readAttributes(alice)).toEqual({ givenName: 'Alice', email: 'alice@example.org', title: 'Engineer' });
  });

  it('edits send the whole attribute map back (the marker and foreign attributes kept); no change is no edit', () => {
    expect(editedUser(alice, { givenName: 'Alice', title: 'Engineer' })).toBeUndefined();
    const edited = editedUser(alice, { familyName: 'Archer', title: null, department: 'R&D' });
    expect(edited).toMatchObject({
      id: 'u1',
      username: 'alice',
      lastName: 'Archer',
      attributes: { [MARKER_ATTRIBUTE]: ['ns/sso'], other: ['kept'], department: ['R&D'] },
    });
    expect(edited?.attributes).not.toHaveProperty('title');
    expect(editedUser(alice, {}, { enabled: false })).toMatchObject({ enabled: false, attributes: alice.attributes });
  });

  it('a new user carries the marker; its owner is read from it', () => {
    const rep = newUser('bob', 'ns/sso', { displayName: 'Bob' }, true);
    expect(rep).toEqual({ username: 'bob', enabled: true, attributes: { [MARKER_ATTRIBUTE]: ['ns/sso'], displayName: ['Bob'] } });
    expect(ownerOf({ id: 'x', ...rep }, 'ns/sso')).toBeUndefined();
    expect(ownerOf({ id: 'x', ...rep }, 'ns/other')).toBe('foreign');
    expect(ownerOf({ id: 'x', username: 'carol' }, 'ns/sso')).toBe('unmanaged');
  });

  it('refuses user names Keycloak would not keep as written', () => {
    expect(userNameProblem('alice')).toBeUndefined();
    expect(userNameProblem('Alice')).toMatch(/lower case/);
    expect(userNameProblem('al')).toMatch(/3 to 255/);
    expect(userNameProblem('al ice')).toMatch(/spaces/);
  });
});

describe('keycloak user profile', () => {
  it('finds undeclared attributes and a marker a user could see or edit', () => {
    expect(profileGaps({ attributes: wantedDeclarations() })).toEqual([]);
    expect(profileGaps({ attributes: [] }).map((a) => a.name)).toContain(MARKER_ATTRIBUTE);
    const open = wantedDeclarations().map((a) =>
      a.name === MARKER_ATTRIBUTE ? { ...a, permissions: { view: ['admin', 'user'], edit: ['admin', 'user'] } } : a,
    );
    expect(profileGaps({ attributes: open }).map((a) => a.name)).toEqual([MARKER_ATTRIBUTE]);
  });
});
