// Reads from the shared catalogs, always with $n parameters. pg_roles (not pg_authid) so that a
// connecting role without superuser can read it too.
import type { AccountOwner, ObservedAccount } from '../../api/index.ts';
import type { Sql } from './session.ts';

/** The marker role by name, and the comment that proves Rollcall created it for this system. */
export interface MarkerRef {
  managedRole: string;
  markerTag: string;
}

/** The comment Rollcall puts on the marker roles it creates: this prefix, then `<namespace>/<name>`. */
export const MARKER_TAG_PREFIX = 'rollcall.dev/marker-of=';

/** The marker role every system shared before markers were per system; never tagged. */
export const LEGACY_MARKER = 'rollcall_managed';

/** The canonical attribute kept in the role's comment. */
export const DISPLAY_NAME = 'displayName';

export interface RoleRow {
  oid: string;
  name: string;
  canLogin: boolean;
  superuser: boolean;
  /** A direct member of the marker role (which carries this system's tag) and not a superuser: Rollcall may change it. */
  managed: boolean;
  /** A direct member of the legacy marker role rollcall_managed. */
  legacy: boolean;
  /** A direct member of a marker role another system tagged. */
  foreign: boolean;
  comment: string | null;
  /** Roles it is a direct member of, the marker excluded. */
  groups: string[];
}

// $1 is always the marker role's name, $2 the tag its comment must carry (a marker role without it
// makes no role managed: Rollcall did not create it for this system). It and the groups are looked
// up by oid (to_regrole, pg_get_userbyid: catalog cache lookups) rather than joined through the
// pg_roles view, and comments are read directly rather than through shobj_description(): planning
// this query cost more than running it. A missing marker (to_regrole gives NULL) makes no role managed.
const MARKER_OID = `(SELECT d.objoid FROM pg_shdescription d
  WHERE d.objoid = to_regrole(quote_ident($1)) AND d.classoid = 'pg_authid'::regclass AND d.description = $2)`;
const ROLE_COLUMNS = `
  r.oid::text AS oid,
  r.rolname::text AS name,
  r.rolcanlogin AS "canLogin",
  r.rolsuper AS superuser,
  (NOT r.rolsuper AND EXISTS (
    SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid AND m.roleid = ${MARKER_OID})) AS managed,
  EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid AND m.roleid = to_regrole('${LEGACY_MARKER}')) AS legacy,
  EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_shdescription d ON d.objoid = m.roleid AND d.classoid = 'pg_authid'::regclass
    WHERE m.member = r.oid AND d.description LIKE '${MARKER_TAG_PREFIX}%' AND d.description <> $2) AS foreign,
  (SELECT d.description FROM pg_shdescription d WHERE d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass) AS comment,
  ARRAY(SELECT pg_get_userbyid(m.roleid)::text FROM pg_auth_members m
        WHERE m.member = r.oid AND m.roleid IS DISTINCT FROM to_regrole(quote_ident($1))
          AND m.roleid IS DISTINCT FROM to_regrole('${LEGACY_MARKER}')) AS groups`;

/** The role called `name`, managed or not; undefined when there is none. */
export async function findRole(sql: Sql, marker: MarkerRef, name: string): Promise<RoleRow | undefined> {
  const { rows } = await sql.query<RoleRow>(`SELECT ${ROLE_COLUMNS} FROM pg_roles r WHERE r.rolname = $3`, [marker.managedRole, marker.markerTag, name]);
  return rows[0];
}

/** The role called `name` with `columns` read beside the usual ones (their parameters from $4 on, `values`). */
export async function findRoleWith<T extends object>(
  sql: Sql,
  marker: MarkerRef,
  name: string,
  columns: string,
  values: unknown[],
): Promise<(RoleRow & T) | undefined> {
  const { rows } = await sql.query<RoleRow & T>(`SELECT ${ROLE_COLUMNS}, ${columns} FROM pg_roles r WHERE r.rolname = $3`, [
    marker.managedRole,
    marker.markerTag,
    name,
    ...values,
  ]);
  return rows[0];
}

/** The roles called `names` that exist, managed or not, in one query. */
export async function findRoles(sql: Sql, marker: MarkerRef, names: string[]): Promise<RoleRow[]> {
  const { rows } = await sql.query<RoleRow>(`SELECT ${ROLE_COLUMNS} FROM pg_roles r WHERE r.rolname = ANY($3::text[])`, [
    marker.managedRole,
    marker.markerTag,
    names,
  ]);
  return rows;
}

/** Every role in the managed scope. */
export async function managedRoles(sql: Sql, marker: MarkerRef): Promise<RoleRow[]> {
  const { rows } = await sql.query<RoleRow>(`SELECT * FROM (SELECT ${ROLE_COLUMNS} FROM pg_roles r) roles WHERE managed`, [
    marker.managedRole,
    marker.markerTag,
  ]);
  return rows;
}

/** The name of every role, whoever's: a name not among them has no role at all (Connector.listUserNames). */
export async function allRoleNames(sql: Sql): Promise<string[]> {
  const { rows } = await sql.query<{ name: string }>('SELECT rolname::text AS name FROM pg_roles');
  return rows.map((row) => row.name);
}

/** Whose the role is, seen from this system: undefined when it is this system's own. */
export function ownerOf(row: RoleRow): AccountOwner | undefined {
  if (row.managed) return undefined;
  if (row.foreign || row.superuser) return 'foreign';
  return row.legacy ? 'legacy' : 'unmanaged';
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
