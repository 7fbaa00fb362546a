// Which PostgreSQL roles adoption may take: the rule on the shape a query read (the real server
// proves the query in test/conformance/attacks/postgres-tenant-roles.conformance.test.ts).
import { describe, expect, it } from 'vitest';
import { adoptionRefusal, type ShapedRole } from '../../../src/connectors/postgres/adoptable.ts';

const plainLogin: ShapedRole = {
  oid: '1',
  name: 'dora',
  canLogin: true,
  superuser: false,
  managed: false,
  legacy: false,
  foreign: false,
  comment: null,
  groups: [],
  elevated: [],
  elevatedVia: null,
  hasMembers: false,
  markerRole: false,
  connecting: false,
  reassignTarget: false,
};

describe('adoptionRefusal', () => {
  it('takes a plain login, and a legacy-marked leaver that cannot log in', () => {
    expect(adoptionRefusal(plainLogin)).toBeUndefined();
    expect(adoptionRefusal({ ...plainLogin, canLogin: false, legacy: true })).toBeUndefined();
  });

  const refused: [string, Partial<ShapedRole>, string][] = [
    ['a marker role', { markerRole: true, canLogin: false, hasMembers: true }, 'role "dora" is a Rollcall marker role'],
    ['the connecting role', { connecting: true, elevated: ['CREATEROLE'] }, 'role "dora" is the role Rollcall connects as'],
    ['reassignTo', { reassignTarget: true }, 'role "dora" receives deleted leavers\' objects (spec.postgres.reassignTo)'],
    ['elevated attributes', { elevated: ['BYPASSRLS', 'CREATEROLE'] }, 'role "dora" has CREATEROLE, BYPASSRLS'],
    ['a predefined role', { name: 'pg_monitor' }, 'role "pg_monitor" is a PostgreSQL predefined role (pg_*)'],
    [
      'a member of an elevated role',
      { elevatedVia: 'pg_read_all_data' },
      'role "dora" is a member of "pg_read_all_data", a predefined role or one with elevated attributes',
    ],
    ['a group', { hasMembers: true }, 'role "dora" is a group role: other roles are members of it'],
    ['an unmarked NOLOGIN role', { canLogin: false }, 'role "dora" cannot log in'],
  ];
  it.each(refused)('refuses %s, saying why', (_what, shape, reason) => {
    expect(adoptionRefusal({ ...plainLogin, ...shape })).toContain(reason);
  });
});
