// The schemas inbound SCIM serves are what sources/scim.ts keeps, and the two things SCIMMY leaves
// to its caller work against them: an undeclared attribute is found, and a filter compares a
// caseExact: false attribute without regard to case (a caseExact one, such as externalId, exactly).
import SCIMMY from 'scimmy';
import { describe, expect, it } from 'vitest';
import type { User } from '../../../src/api/index.ts';
import { declareKeptSchemas, matchFilter, undeclaredAttributes, undeclaredInPatch } from '../../../src/scim-inbound/scim-schema.ts';
import {
  KEPT_GROUP_ATTRIBUTES,
  KEPT_USER_ATTRIBUTES,
  SCIM_VALUES_ANNOTATION,
  scimToFields,
  scimValues,
  userToScim,
  type ScimUser,
} from '../../../src/sources/scim.ts';

declareKeptSchemas();
const users = SCIMMY.Schemas.User.definition;

/** The attribute paths a value holds: "name.givenName", "emails.type", ... */
function paths(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, item]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const inner = Array.isArray(item) ? item[0] : item;
    return inner && typeof inner === 'object' ? paths(inner, path) : [path];
  });
}

describe('inbound SCIM schemas', () => {
  it('a User with every kept attribute round-trips through the User spec and its annotation, attribute for attribute', () => {
    const sent: ScimUser = {
      externalId: 'HR-1',
      userName: 'Ann.Lee@Example.org',
      name: { givenName: 'Ann', familyName: 'Lee' },
      displayName: 'Ann Lee',
      title: 'Engineer',
      emails: [{ value: 'ann@example.org', type: 'work', primary: false }],
      active: false,
    };
    expect(paths(sent).sort()).toEqual(Object.keys(KEPT_USER_ATTRIBUTES).sort());
    const { state, ...fields } = scimToFields(sent);
    const user = {
      apiVersion: 'rollcall.dev/v1alpha1',
      kind: 'User',
      metadata: { name: 'ann.lee', annotations: { [SCIM_VALUES_ANNOTATION]: JSON.stringify(scimValues(sent)) } },
      spec: { ...fields, state, employeeType: 'employee' },
    } as User;
    expect(user.spec.userName).toBe('ann.lee');
    expect(userToScim(user)).toEqual({ id: 'ann.lee', ...sent });
  });

  it('declares exactly the kept attributes, with userName immutable', () => {
    const declared = (definition: typeof users) =>
      (definition.describe().attributes as Array<{ name: string; subAttributes?: Array<{ name: string }> }>).flatMap((a) =>
        a.subAttributes ? a.subAttributes.map((s) => `${a.name}.${s.name}`) : [a.name],
      );
    // externalId is common to every resource (RFC 7643 3.1): kept, and listed in no schema.
    expect(declared(users).sort()).toEqual(
      Object.keys(KEPT_USER_ATTRIBUTES)
        .filter((p) => p !== 'externalId')
        .sort(),
    );
    expect(declared(SCIMMY.Schemas.Group.definition).sort()).toEqual(
      Object.keys(KEPT_GROUP_ATTRIBUTES)
        .filter((p) => p !== 'externalId')
        .sort(),
    );
    expect(users.attribute('userName').toJSON()).toMatchObject({ mutability: 'immutable', caseExact: false });
    declareKeptSchemas(); // a second server in the same process
    expect(declared(users)).toContain('userName');
  });

  it('finds the attributes a body carries that the schema does not declare', () => {
    expect(undeclaredAttributes(users, { schemas: [], id: 'x', meta: {}, userName: 'a', externalId: 'e', emails: [{ value: 'a@b.c', type: 'work' }] })).toEqual(
      [],
    );
    expect(
      undeclaredAttributes(users, {
        userName: 'a',
        nickName: 'n',
        name: { givenName: 'A', formatted: 'A B' },
        emails: [{ value: 'a@b.c', display: 'A' }],
        roles: [{ value: 'r', type: 't' }],
      }),
    ).toEqual(['nickName', 'name.formatted', 'emails.display', 'roles']);
    expect(undeclaredAttributes(users, { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'x' } })).toEqual([
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    ]);
  });

  it('finds them in PATCH values, and leaves a path to an undeclared attribute to SCIMMY (invalidPath)', () => {
    const patch = (...Operations: object[]) => undeclaredInPatch(users, { Operations });
    expect(
      patch(
        { op: 'replace', path: 'name.givenName', value: 'A' },
        { op: 'add', path: 'emails[type eq "work"]', value: { value: 'a@b.c' } },
        { op: 'remove', path: 'title' },
      ),
    ).toEqual([]);
    expect(patch({ op: 'add', path: 'emails', value: [{ value: 'a@b.c', display: 'A' }] })).toEqual(['emails.display']);
    expect(patch({ op: 'add', path: 'emails[type eq "work"]', value: { display: 'A' } })).toEqual(['emails.display']);
    expect(patch({ op: 'add', value: { nickName: 'N', name: { middleName: 'M' } } })).toEqual(['nickName', 'name.middleName']);
    expect(patch({ op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:name', value: { honorificPrefix: 'Dr' } })).toEqual([
      'name.honorificPrefix',
    ]);
    expect(patch({ op: 'add', path: 'nickName', value: 'N' })).toEqual([]);
  });

  it('compares userName and e-mail without regard to case, externalId and id exactly', () => {
    const all = [
      { id: 'ann', userName: 'Ann@Example.org', externalId: 'HR-1', emails: [{ value: 'Ann@Example.org' }] },
      { id: 'bob', userName: 'bob', externalId: 'hr-2' },
    ];
    const match = (expression: string) => matchFilter(users, new SCIMMY.Types.Filter(expression), all).map((u) => u.id);
    expect(match('userName eq "ann@example.ORG"')).toEqual(['ann']);
    expect(match('userName sw "BO"')).toEqual(['bob']);
    expect(match('emails[value eq "ANN@EXAMPLE.ORG"]')).toEqual(['ann']);
    expect(match('emails.value co "example"')).toEqual(['ann']);
    expect(match('not (userName eq "BOB")')).toEqual(['ann']);
    expect(match('externalId eq "HR-1"')).toEqual(['ann']);
    expect(match('externalId eq "hr-1"')).toEqual([]);
    expect(match('id eq "ANN"')).toEqual([]);
    // The answer holds the resources as they are, not their folded copies.
    expect(matchFilter(users, new SCIMMY.Types.Filter('userName eq "ANN@EXAMPLE.ORG"'), all)).toEqual([all[0]]);
  });
});
