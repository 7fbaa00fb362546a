// Reads from the shared catalogs, always with $n parameters. pg_roles (not pg_authid) so that a
// connecting role without superuser can read it too.
import type { ObservedAccount } from '../../api/index.ts';
import type { Sql } from './session.ts';

/** The canonical attribute kept in the role's comment. */
export const DISPLAY_NAME = 'displayName';

export interface RoleRow {
  oid: string;
  name: string;
  canLogin: boolean;
  superuser: boolean;
  /** A direct member of the marker role and not a superuser: Rollcall may change it. */
  managed: boolean;
  comment: string | null;
  /** Roles it is a direct member of, the marker excluded. */
  groups: string[];
}

// $1 is always the marker role's name. It and the groups are looked up by oid (to_regrole,
// pg_get_userbyid: catalog cache lookups) rather than joined through the pg_roles view, and the
// comment is read directly rather than through shobj_description(): planning this query cost more
// than running it. A missing marker (to_regrole gives NULL) makes no role managed.
const ROLE_COLUMNS = `
  r.oid::text AS oid,
  r.rolname::text AS name,
  r.rolcanlogin AS "canLogin",
  r.rolsuper AS superuser,
  (NOT r.rolsuper AND EXISTS (
    SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid AND m.roleid = to_regrole(quote_ident($1)))) AS managed,
  (SELECT d.description FROM pg_shdescription d WHERE d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass) AS comment,
  ARRAY(SELECT pg_get_userbyid(m.roleid)::text FROM pg_auth_members m
        WHERE m.member = r.oid AND m.roleid IS DISTINCT FROM to_regrole(quote_ident($1))) AS groups`;

/** The role called `name`, managed or not; undefined when there is none. */
export async function findRole(sql: Sql, marker: string, name: string): Promise<RoleRow | undefined> {
  const { rows } = await sql.query<RoleRow>(`SELECT ${ROLE_COLUMNS} FROM pg_roles r WHERE r.rolname = $2`, [marker, name]);
  return rows[0];
}

/** The roles called `names` that exist, managed or not, in one query. */
export async function findRoles(sql: Sql, marker: string, names: string[]): Promise<RoleRow[]> {
  const { rows } = await sql.query<RoleRow>(`SELECT ${ROLE_COLUMNS} FROM pg_roles r WHERE r.rolname = ANY($2::text[])`, [marker, names]);
  return rows;
}

/** Every role in the managed scope. */
export async function managedRoles(sql: Sql, marker: string): Promise<RoleRow[]> {
  const { rows } = await sql.query<RoleRow>(`SELECT * FROM (SELECT ${ROLE_COLUMNS} FROM pg_roles r) roles WHERE managed`, [marker]);
  return rows;
}

export function toObservedAccount(row: RoleRow): ObservedAccount {
  return {
    userName: row.name,
    id: row.name,
    state: row.canLogin ? 'present' : 'disabled',
    attributes: row.comment === null ? {} : { [DISPLAY_NAME]: row.comment },
    // Code-unit order, as the engine sorts; the database collation might order differently.
    entitlements: [...new Set(row.groups)].sort(),
  };
}
