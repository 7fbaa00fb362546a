// What a PostgreSQL entitlement may be: a group role this system may hand out, nothing more. A
// membership gives the member every privilege of the role and of each role that role is a member of,
// at any depth (and SET ROLE to each), so the rule holds for that whole chain. Every role an
// entitlement reaches must be:
//  - unable to log in: a LOGIN role is somebody's identity, not a group;
//  - no account of any Rollcall system, in any state: not a direct member of any marker role (the
//    legacy rollcall_managed included). A leaver disabled by another tenant's system is NOLOGIN, yet
//    still a person who owns tables; granting it hands those tables to the grantee;
//  - not a marker role: membership in one moves the grantee into that system's managed scope;
//  - neither the role Rollcall connects as nor spec.postgres.reassignTo (it owns deleted leavers' objects);
//  - not predefined (pg_*) and without SUPERUSER, CREATEROLE, CREATEDB, BYPASSRLS or REPLICATION.
// Passwords play no part: pg_roles hides them from a connecting role without superuser, and a
// password on a NOLOGIN role opens nothing. One query answers for all the names of a pass, and says
// which of them exist: a fit role that exists may be granted without asking again (known.ts).
import type { RefusedEntitlement } from '../../api/index.ts';
import { LEGACY_MARKER, MARKER_TAG_PREFIX } from './catalog.ts';
import { ELEVATED_ATTRIBUTES, ELEVATED_COLUMNS, isPredefinedName, predefinedReason } from './elevated.ts';
import { roleNameProblem } from './names.ts';
import type { Sql } from './session.ts';
import type { PostgresSettings } from './settings.ts';

type Attribute = (typeof ELEVATED_ATTRIBUTES)[number];
type ReachedRole = {
  entitlement: string;
  depth: number;
  unfit: boolean;
  via: string;
  marker: boolean;
  account: boolean;
  connecting: boolean;
  reassignTo: boolean;
  login: boolean;
  predefined: boolean;
} & Record<Attribute, boolean>;

// $1 the entitlements, $2 this system's marker role (it may not exist yet), $3 reassignTo, $4 the
// marker tag prefix. A marker role is a role tagged by any system, or the legacy marker. PostgreSQL
// forbids membership cycles; the depth bound is a backstop.
const REACHED_UNFIT = `
  WITH RECURSIVE reach(entitlement, oid, depth) AS (
    SELECT r.rolname::text, r.oid, 0 FROM pg_roles r WHERE r.rolname = ANY($1::text[])
    UNION ALL
    SELECT reach.entitlement, m.roleid, reach.depth + 1 FROM pg_auth_members m JOIN reach ON m.member = reach.oid WHERE reach.depth < 16
  ), markers AS (
    SELECT d.objoid AS oid FROM pg_shdescription d WHERE d.classoid = 'pg_authid'::regclass AND starts_with(d.description, $4)
    UNION SELECT r.oid FROM pg_roles r WHERE r.rolname IN ($2, '${LEGACY_MARKER}')
  ), reached AS (
    SELECT reach.entitlement, reach.depth, p.rolname::text AS via,
           p.oid IN (SELECT oid FROM markers) OR p.rolname = $2 AS marker,
           EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = p.oid AND m.roleid IN (SELECT oid FROM markers)) AS account,
           p.rolname = current_user AS connecting, p.rolname = $3 AS "reassignTo", p.rolcanlogin AS login,
           starts_with(p.rolname, 'pg_') AS predefined,
           ${ELEVATED_ATTRIBUTES.map((attribute) => `p.${ELEVATED_COLUMNS[attribute]} AS "${attribute}"`).join(', ')}
    FROM reach JOIN pg_roles p ON p.oid = reach.oid
  ), judged AS (
    SELECT reached.*, (marker OR account OR connecting OR "reassignTo" OR login OR predefined OR ${ELEVATED_ATTRIBUTES.map((attribute) => `"${attribute}"`).join(' OR ')}) AS unfit
    FROM reached
  )
  SELECT * FROM judged WHERE depth = 0 OR unfit ORDER BY depth`;

export interface GroupRoleFitness {
  /** The names that are no group role this system may grant, each with its reason. */
  refused: RefusedEntitlement[];
  /** The names of existing roles this system may grant. */
  grantable: string[];
}

/** Which of `names` this system may grant, and why not the others, in one query. */
export async function groupRoleFitness(
  sql: Sql,
  settings: Pick<PostgresSettings, 'managedRole' | 'reassignTo'>,
  names: readonly string[],
): Promise<GroupRoleFitness> {
  const refused = new Map<string, string>();
  const existing = new Set<string>();
  for (const name of names) if (isPredefinedName(name)) refused.set(name, predefinedReason(name));
  // A name no role can have (a NUL, over 63 bytes) names no role to refuse either; its grant reports
  // the problem. Sent along, a NUL would fail the whole query, and with it every other entitlement's check.
  const rest = names.filter((name) => !refused.has(name) && roleNameProblem(name) === undefined);
  if (rest.length > 0) {
    const { rows } = await sql.query<ReachedRole>(REACHED_UNFIT, [rest, settings.managedRole, settings.reassignTo, MARKER_TAG_PREFIX]);
    for (const row of rows) {
      if (row.depth === 0) existing.add(row.entitlement);
      if (!row.unfit || refused.has(row.entitlement)) continue; // the nearest reason is the one shown
      refused.set(row.entitlement, unfitReason(row));
    }
  }
  return {
    refused: [...refused].map(([entitlement, reason]) => ({ entitlement, reason })),
    grantable: [...existing].filter((name) => !refused.has(name)),
  };
}

/** The entitlements among `names` that are not group roles this system may grant, each with its reason. */
export async function refusedGroupRoles(
  sql: Sql,
  settings: Pick<PostgresSettings, 'managedRole' | 'reassignTo'>,
  names: readonly string[],
): Promise<RefusedEntitlement[]> {
  return (await groupRoleFitness(sql, settings, names)).refused;
}

/** Why an account-like role is no entitlement: the rule, so the reader knows what would be. */
const GROUP_RULE = 'an entitlement must be a group role (NOLOGIN) that no ConnectedSystem manages; never granted by Rollcall';

function unfitReason(row: ReachedRole): string {
  const subject =
    row.via === row.entitlement
      ? `role ${JSON.stringify(row.entitlement)}`
      : `role ${JSON.stringify(row.entitlement)} is a member of ${JSON.stringify(row.via)}, which`;
  if (row.marker) return `${subject} is a Rollcall marker role (it draws a ConnectedSystem's managed scope): ${GROUP_RULE}`;
  if (row.account) return `${subject} is an account a Rollcall ConnectedSystem manages (a member of a marker role), whether enabled or disabled: ${GROUP_RULE}`;
  // What the role could do comes before whose it is: the superuser Rollcall connects as "has SUPERUSER".
  const attributes = ELEVATED_ATTRIBUTES.filter((attribute) => row[attribute]);
  if (attributes.length) return `${subject} has ${attributes.join(', ')}: never granted by Rollcall`;
  if (row.predefined) return `${subject} is a PostgreSQL predefined role (pg_*): never granted by Rollcall`;
  if (row.connecting) return `${subject} is the role Rollcall connects as: ${GROUP_RULE}`;
  if (row.reassignTo) return `${subject} receives deleted leavers' objects (spec.postgres.reassignTo): ${GROUP_RULE}`;
  return `${subject} can log in, so it is an account, not a group role: ${GROUP_RULE}`;
}
