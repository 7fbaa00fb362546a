// Which roles adoption may take (spec.adoption, or the legacy marker). Adopting makes a role this
// system's account: it is then enabled or disabled, its comment rewritten, its memberships replaced
// by the declared ones, and on deprovision dropped. So only a plain login of the shape Rollcall
// itself creates is taken, never a role that is more than one person's login:
//  - a role with SUPERUSER, CREATEROLE, CREATEDB, BYPASSRLS or REPLICATION, or a member (at any depth)
//    of a predefined (pg_*) or elevated role: adopted, it would stay that powerful under Rollcall's name;
//  - any system's marker role (tagged, legacy, or this system's name for one): its tag would be
//    overwritten, and with it the line around another system's accounts;
//  - a role with members (a group): adopting it would hand every member to the User;
//  - the role Rollcall connects as, and spec.postgres.reassignTo (it owns deleted leavers' objects);
//  - an unmarked role that cannot log in: a NOLOGIN role nobody marked is a group role or an
//    account someone disabled on purpose, not a login to take (a legacy-marked leaver is NOLOGIN
//    and still claimed: Rollcall created it).
// Another system's account (a member of its marker) is `foreign` in catalog.ts and never reaches here.
// The shape is read in the same query as the role itself: no extra round trip.
import { findRoleWith, LEGACY_MARKER, MARKER_TAG_PREFIX, type RoleRow } from './catalog.ts';
import { ELEVATED_ATTRIBUTES, ELEVATED_COLUMNS, isPredefinedName } from './elevated.ts';
import type { Sql } from './session.ts';
import type { PostgresSettings } from './settings.ts';

export interface RoleShape {
  /** The role's own elevated attributes. */
  elevated: string[];
  /** The nearest predefined or elevated role it is a member of, at any depth; null when none. */
  elevatedVia: string | null;
  /** Some role is a member of it. */
  hasMembers: boolean;
  /** A marker role: tagged by any system, the legacy one, or this system's managedRole. */
  markerRole: boolean;
  /** The role Rollcall connects as. */
  connecting: boolean;
  /** spec.postgres.reassignTo. */
  reassignTarget: boolean;
}

export type ShapedRole = RoleRow & RoleShape;

// $1 is this system's marker role, $4 reassignTo, $5 the marker tag prefix (catalog.ts binds $1-$3).
const SHAPE_COLUMNS = `
  array_remove(ARRAY[${ELEVATED_ATTRIBUTES.map((attribute) => `CASE WHEN r.${ELEVATED_COLUMNS[attribute]} THEN '${attribute}' END`).join(', ')}], NULL) AS elevated,
  (WITH RECURSIVE up(oid, depth) AS (
     SELECT m.roleid, 1 FROM pg_auth_members m WHERE m.member = r.oid
     UNION ALL
     SELECT m.roleid, up.depth + 1 FROM pg_auth_members m JOIN up ON m.member = up.oid WHERE up.depth < 16
   )
   -- Each role reached is looked up by its oid: a join let the planner scan every role in the
   -- cluster for the elevated ones (a hash join), 1.3 ms a read at 10,000 roles.
   SELECT via FROM (
     SELECT up.depth, (SELECT p.rolname::text FROM pg_roles p WHERE p.oid = up.oid
       AND (starts_with(p.rolname, 'pg_') OR ${ELEVATED_ATTRIBUTES.map((attribute) => `p.${ELEVATED_COLUMNS[attribute]}`).join(' OR ')})) AS via
     FROM up) reached
   WHERE via IS NOT NULL
   ORDER BY depth LIMIT 1) AS "elevatedVia",
  EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.roleid = r.oid) AS "hasMembers",
  (r.rolname IN ($1, '${LEGACY_MARKER}') OR EXISTS (SELECT 1 FROM pg_shdescription d
     WHERE d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass AND starts_with(d.description, $5))) AS "markerRole",
  r.rolname = current_user AS connecting,
  r.rolname = $4 AS "reassignTarget"`;

/** The role called `name` and what adoption needs to know of its shape, in one query. */
export function findShapedRole(
  sql: Sql,
  settings: Pick<PostgresSettings, 'managedRole' | 'markerTag' | 'reassignTo'>,
  name: string,
): Promise<ShapedRole | undefined> {
  return findRoleWith<RoleShape>(sql, settings, name, SHAPE_COLUMNS, [settings.reassignTo, MARKER_TAG_PREFIX]);
}

/** Why the role may never be adopted, or undefined when it is a plain login (or a legacy-marked account) of the right shape. */
export function adoptionRefusal(role: ShapedRole): string | undefined {
  const name = JSON.stringify(role.name);
  if (role.markerRole) return `role ${name} is a Rollcall marker role`;
  if (role.connecting) return `role ${name} is the role Rollcall connects as`;
  if (role.reassignTarget) return `role ${name} receives deleted leavers' objects (spec.postgres.reassignTo)`;
  const attributes = ELEVATED_ATTRIBUTES.filter((attribute) => role.elevated.includes(attribute));
  if (attributes.length) return `role ${name} has ${attributes.join(', ')}`;
  if (isPredefinedName(role.name)) return `role ${name} is a PostgreSQL predefined role (pg_*)`;
  if (role.elevatedVia !== null) return `role ${name} is a member of ${JSON.stringify(role.elevatedVia)}, a predefined role or one with elevated attributes`;
  if (role.hasMembers) return `role ${name} is a group role: other roles are members of it`;
  if (!role.canLogin && !role.legacy)
    return `role ${name} cannot log in: a NOLOGIN role nobody marked is a group role or an account disabled on purpose, not a login to take over`;
  return undefined;
}
