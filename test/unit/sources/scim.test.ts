// SCIM resources to the User fields an scim source manages, and back.
import { describe, expect, it } from 'vitest';
import type { User } from '../../../src/api/index.ts';
import { ScimValueError, groupId, groupsOf, scimPatch, scimToFields, userNameToObjectName, userToScim } from '../../../src/sources/scim.ts';

describe('inbound SCIM mapping', () => {
  it.each([
    [
      { userName: 'Alice.Smith@Example.org', active: true },
      { userName: 'alice.smith', state: 'active' },
    ],
    [
      { userName: 'bob', active: false, name: { givenName: 'Bob', familyName: 'Jones' } },
      { userName: 'bob', givenName: 'Bob', familyName: 'Jones', state: 'suspended' },
    ],
    [
      { userName: 'carol', emails: [{ value: 'carol@x.io', primary: true }], title: 'CFO' },
      { userName: 'carol', email: 'carol@x.io', title: 'CFO', state: 'active' },
    ],
    [
      { userName: 'dave', displayName: 'Dave D.' },
      { userName: 'dave', displayName: 'Dave D.', state: 'active' },
    ],
  ])('%j', (scim, fields) => {
    expect(JSON.parse(JSON.stringify(scimToFields(scim)))).toEqual(fields);
  });

  it.each([
    [{}, 'userName is required'],
    [{ userName: 'Bob Smith' }, 'userName: must be lowercase'],
    [{ userName: 'bob', emails: [{ value: 'nope' }] }, 'emails:'],
    // A User holds one address: a second is refused, not accepted and lost.
    [{ userName: 'bob', emails: [{ value: 'b@x.io' }, { value: 'bob@x.io', primary: true }] }, 'emails: a User keeps one address'],
  ])('refuses %j', (scim, message) => {
    expect(() => scimToFields(scim)).toThrow(ScimValueError);
    expect(() => scimToFields(scim)).toThrow(message);
  });

  it('names Users DNS-safely and patches only what changed', () => {
    expect(userNameToObjectName('ann_lee')).toBe('ann-lee');
    const user = {
      apiVersion: 'rollcall.dev/v1alpha1',
      kind: 'User',
      metadata: { name: 'bob' },
      spec: { userName: 'bob', employeeType: 'employee', state: 'active', givenName: 'Bob', title: 'Rep', department: 'Kept' },
    } as User;
    expect(scimPatch(user, { userName: 'bob', givenName: 'Bob', title: 'Lead', state: 'suspended' })).toEqual({ title: 'Lead', state: 'suspended' });
    expect(userToScim(user)).toEqual({ id: 'bob', userName: 'bob', name: { givenName: 'Bob' }, title: 'Rep', active: true });
  });

  it('names groups as labels can, and reads the groups a source keeps', () => {
    expect(groupId('Sales Team (EMEA)')).toBe('sales-team-emea');
    expect(groupId('x'.repeat(70) + '!')).toHaveLength(63);
    expect(() => groupId('!!!')).toThrow(ScimValueError);
    expect(groupsOf({ 'rollcall.dev/scim-groups': '{"sales":"Sales"}' })).toEqual(new Map([['sales', 'Sales']]));
    expect(groupsOf({ 'rollcall.dev/scim-groups': 'not json' })).toEqual(new Map());
    expect(groupsOf(undefined)).toEqual(new Map());
    // Ids come from request paths: nothing of Object.prototype is a group, nor a value that is not a name.
    const groups = groupsOf({ 'rollcall.dev/scim-groups': '{"sales":"Sales","odd":7}' });
    for (const id of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'odd']) expect(groups.has(id)).toBe(false);
  });
});
