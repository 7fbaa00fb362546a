// Roles that are never entitlements, whatever an AccessRole says: the predefined roles (pg_*, e.g.
// pg_execute_server_program runs programs as the server's OS user) and roles with an attribute that
// reaches past the databases Rollcall grants access to (SUPERUSER, CREATEROLE, CREATEDB, BYPASSRLS,
// REPLICATION). Attributes are not inherited, but a member may SET ROLE to the role that has them,
// so a group that is itself a member of such a role (at any depth) is refused as well.
import type { RefusedEntitlement } from '../../api/index.ts';
import { roleNameProblem } from './names.ts';
import type { Sql } from './session.ts';

export const ELEVATED_ATTRIBUTES = ['SUPERUSER', 'CREATEROLE', 'CREATEDB', 'BYPASSRLS', 'REPLICATION'] as const;

/** Reserved by PostgreSQL for its predefined roles: nobody can create a role with this prefix. */
export const isPredefinedName = (name: string) => name.startsWith('pg_');

type ReachedRole = { entitlement: string; via: string } & Record<(typeof ELEVATED_ATTRIBUTES)[number], boolean>;

// Every role each entitlement can SET ROLE to (itself and its memberships, transitively) that is
// predefined or elevated. PostgreSQL forbids membership cycles; the depth bound is a backstop.
const REACHED_ELEVATED = `
  WITH RECURSIVE reach(entitlement, oid, depth) AS (
    SELECT r.rolname::text, r.oid, 0 FROM pg_roles r WHERE r.rolname = ANY($1::text[])
    UNION ALL
    SELECT reach.entitlement, m.roleid, reach.depth + 1 FROM pg_auth_members m JOIN reach ON m.member = reach.oid WHERE reach.depth < 16
  )
  SELECT reach.entitlement, p.rolname::text AS via, p.rolsuper AS "SUPERUSER", p.rolcreaterole AS "CREATEROLE",
         p.rolcreatedb AS "CREATEDB", p.rolbypassrls AS "BYPASSRLS", p.rolreplication AS "REPLICATION"
  FROM reach JOIN pg_roles p ON p.oid = reach.oid
  WHERE starts_with(p.rolname, 'pg_') OR p.rolsuper OR p.rolcreaterole OR p.rolcreatedb OR p.rolbypassrls OR p.rolreplication
  ORDER BY reach.depth`;

/** The entitlements among `names` that are predefined or elevated roles (or members of one), each with its reason. */
export async function elevatedEntitlements(sql: Sql, names: readonly string[]): Promise<RefusedEntitlement[]> {
  const refused = new Map<string, string>();
  for (const name of names) if (isPredefinedName(name)) refused.set(name, `${JSON.stringify(name)} is a PostgreSQL predefined role (pg_*), never granted by Rollcall`);
  // A name no role can have (a NUL, over 63 bytes) names no elevated role either; its grant reports
  // the problem. Sent along, a NUL would fail the whole query, and with it every other entitlement's check.
  const rest = names.filter((name) => !refused.has(name) && roleNameProblem(name) === undefined);
  if (rest.length > 0) {
    const { rows } = await sql.query<ReachedRole>(REACHED_ELEVATED, [rest]);
    for (const row of rows) {
      if (refused.has(row.entitlement)) continue; // the nearest reason is the one shown
      refused.set(row.entitlement, elevationReason(row));
    }
  }
  return [...refused].map(([entitlement, reason]) => ({ entitlement, reason }));
}

function elevationReason(row: ReachedRole): string {
  const attributes = ELEVATED_ATTRIBUTES.filter((attribute) => row[attribute]);
  const what = attributes.length ? `has ${attributes.join(', ')}` : 'is a PostgreSQL predefined role (pg_*)';
  const subject = row.via === row.entitlement ? `role ${JSON.stringify(row.entitlement)}` : `role ${JSON.stringify(row.entitlement)} is a member of ${JSON.stringify(row.via)}, which`;
  return `${subject} ${what}: never granted by Rollcall`;
}
