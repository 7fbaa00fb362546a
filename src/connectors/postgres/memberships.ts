// Entitlements are memberships in existing group roles. A grant to a role this connector created or
// read a moment ago, of a group role it checked a moment ago, is the GRANT alone: one round trip.
// Otherwise one query reads both roles first. Granting a membership already held, or revoking one
// not held, writes nothing (the server only says so).
import { PermanentError } from '../../api/index.ts';
import { findRoles, LEGACY_MARKER } from './catalog.ts';
import { isPredefinedName, predefinedReason } from './elevated.ts';
import { refusedGroupRoles } from './grantable.ts';
import { sqlState } from './errors.ts';
import { roleNameProblem } from './names.ts';
import { checkName, managedRole, notManaged, shown, UNDEFINED_OBJECT, type ChangeTarget } from './target.ts';

function refuseMarker(target: ChangeTarget, entitlement: string): void {
  const { settings } = target;
  if (entitlement === settings.managedRole || entitlement === LEGACY_MARKER) {
    throw new PermanentError(`${settings.system}: "${entitlement}" is Rollcall's marker role (spec.postgres.managedRole), not an entitlement`);
  }
}

/**
 * Reads both roles in one query, then refuses what is no group role this system may grant
 * (grantable.ts); false when the membership is there already.
 */
async function checkGrant(target: ChangeTarget, userName: string, entitlement: string): Promise<boolean> {
  const { sql, settings, known } = target;
  const roles = await findRoles(sql, settings, [userName, entitlement]);
  const user = roles.find((role) => role.name === userName);
  const group = roles.find((role) => role.name === entitlement);
  if (!user) throw new PermanentError(`${settings.system}: no role ${shown(userName)}; create the account first`);
  if (!user.managed) throw notManaged(target, userName);
  known.managed.set(userName, true);
  if (user.groups.includes(entitlement)) return false;
  if (!group) {
    throw new PermanentError(
      `${settings.system}: group role ${shown(entitlement)} does not exist; Rollcall never creates group roles: create it, or correct the AccessRole`,
    );
  }
  // Checked here as well as before planning: a role that became unfit since is still never granted.
  const [unfit] = await refusedGroupRoles(sql, settings, [entitlement]);
  if (unfit) throw new PermanentError(`${settings.system}: ${unfit.reason}`);
  known.grantable.set(entitlement, true);
  return true;
}

export async function grant(target: ChangeTarget, userName: string, entitlement: string): Promise<void> {
  const { sql, known } = target;
  checkName(target, 'user name', userName);
  checkName(target, 'entitlement', entitlement);
  refuseMarker(target, entitlement);
  if (isPredefinedName(entitlement)) throw new PermanentError(`${target.settings.system}: ${predefinedReason(entitlement)}`);
  const statement = `GRANT ${sql.escapeIdentifier(entitlement)} TO ${sql.escapeIdentifier(userName)}`;
  // Both checked a moment ago: only the write. Granting a membership held already writes nothing.
  if (known.managed.get(userName) && known.grantable.get(entitlement)) {
    try {
      await sql.query(statement);
      return;
    } catch (error) {
      if (sqlState(error) !== UNDEFINED_OBJECT) throw error;
      // One of the two was dropped since: check again, which says which one.
      known.managed.delete(userName);
      known.grantable.delete(entitlement);
    }
  }
  if (await checkGrant(target, userName, entitlement)) await sql.query(statement);
}

export async function revoke(target: ChangeTarget, userName: string, entitlement: string): Promise<void> {
  const { sql, known } = target;
  refuseMarker(target, entitlement);
  // No role can have this name, so nobody holds it; sent anyway, PostgreSQL would truncate it and match another.
  if (roleNameProblem(entitlement)) return;
  const statement = `REVOKE ${sql.escapeIdentifier(entitlement)} FROM ${sql.escapeIdentifier(userName)}`;
  // Revoking a membership that is not there writes nothing (the server only warns).
  if (known.managed.get(userName)) {
    try {
      await sql.query(statement);
      return;
    } catch (error) {
      if (sqlState(error) !== UNDEFINED_OBJECT) throw error;
      known.managed.delete(userName);
    }
  }
  const user = await managedRole(target, userName);
  if (!user.groups.includes(entitlement)) return;
  await sql.query(statement);
}
