// The marker role draws the line around what Rollcall may touch. It must be a plain group role:
// a marker that can log in or is a superuser would make that line meaningless.
import { PermanentError } from '../../api/index.ts';
import { sqlState } from './errors.ts';
import type { Sql } from './session.ts';

/** Creates the marker role NOLOGIN when it is missing; refuses one that can log in or is a superuser. */
export async function ensureMarkerRole(sql: Sql, system: string, marker: string): Promise<void> {
  const found = async () =>
    (await sql.query<{ canLogin: boolean; superuser: boolean }>('SELECT rolcanlogin AS "canLogin", rolsuper AS superuser FROM pg_roles WHERE rolname = $1', [marker])).rows[0];
  let role = await found();
  if (!role) {
    try {
      await sql.query(`CREATE ROLE ${sql.escapeIdentifier(marker)} NOLOGIN`);
    } catch (error) {
      // Another replica created it at the same moment: that is just as good.
      if (!['42710', '23505'].includes(sqlState(error) ?? '')) throw error;
    }
    role = await found();
  }
  if (role?.canLogin || role?.superuser) {
    throw new PermanentError(`${system}: marker role "${marker}" (spec.postgres.managedRole) must be a NOLOGIN, non-superuser role`);
  }
}
