// The marker role draws the line around what Rollcall may touch. It must be a plain group role that
// Rollcall created for this ConnectedSystem, proven by its comment (the tag naming the system): a
// marker that can log in or is a superuser would make that line meaningless, and an existing role
// named as managedRole would hand its members, people Rollcall never created, to this system.
import { PermanentError } from '../../api/index.ts';
import { sqlState } from './errors.ts';
import type { Sql } from './session.ts';
import type { PostgresSettings } from './settings.ts';

interface MarkerRow {
  canLogin: boolean;
  superuser: boolean;
  comment: string | null;
}

async function readMarker(sql: Sql, marker: string): Promise<MarkerRow | undefined> {
  const { rows } = await sql.query<MarkerRow>(
    `SELECT r.rolcanlogin AS "canLogin", r.rolsuper AS superuser,
            (SELECT d.description FROM pg_shdescription d WHERE d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass) AS comment
     FROM pg_roles r WHERE r.rolname = $1`,
    [marker],
  );
  return rows[0];
}

/** Refuses a marker role that exists but is not this system's; a missing one is fine (created on the first create). */
export async function checkMarkerRole(sql: Sql, settings: Pick<PostgresSettings, 'system' | 'managedRole' | 'markerTag'>): Promise<void> {
  const role = await readMarker(sql, settings.managedRole);
  if (role) refuseUnfit(settings, role);
}

function refuseUnfit(settings: Pick<PostgresSettings, 'system' | 'managedRole' | 'markerTag'>, role: MarkerRow): void {
  const { system, managedRole } = settings;
  if (role.canLogin || role.superuser) {
    throw new PermanentError(`${system}: marker role "${managedRole}" (spec.postgres.managedRole) must be a NOLOGIN, non-superuser role`);
  }
  if (role.comment !== settings.markerTag) {
    throw new PermanentError(
      `${system}: role "${managedRole}" (spec.postgres.managedRole) exists but Rollcall did not create it for this ConnectedSystem ` +
        `(its comment is not ${JSON.stringify(settings.markerTag)}); name a role that does not exist yet, or leave managedRole unset`,
    );
  }
}

/** Creates the marker role NOLOGIN with its tag when it is missing; refuses one that is not this system's. */
export async function ensureMarkerRole(sql: Sql, settings: Pick<PostgresSettings, 'system' | 'managedRole' | 'markerTag'>): Promise<void> {
  const { managedRole, markerTag } = settings;
  let role = await readMarker(sql, managedRole);
  if (!role) {
    try {
      // One query of two statements is one transaction: the role never exists without its tag.
      await sql.query(
        `CREATE ROLE ${sql.escapeIdentifier(managedRole)} NOLOGIN; COMMENT ON ROLE ${sql.escapeIdentifier(managedRole)} IS ${sql.escapeLiteral(markerTag)}`,
      );
    } catch (error) {
      // Another replica created it at the same moment: that is just as good.
      if (!['42710', '23505'].includes(sqlState(error) ?? '')) throw error;
    }
    role = await readMarker(sql, managedRole);
  }
  if (role) refuseUnfit(settings, role);
}
