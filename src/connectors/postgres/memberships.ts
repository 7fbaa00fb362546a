// Entitlements are memberships in existing group roles. A grant to a role this connector created or
// read a moment ago, of a group role it checked a moment ago, is the GRANT alone: one round trip.
// Otherwise one query reads both roles first. Granting a membership already held, or revoking one
// not held, writes nothing (the server only says so).
import { PermanentError } from '../../api/index.ts';
import { findRoles, LEGACY_MARKER, MARKER_TAG_PREFIX } from './catalog.ts';
import { elevatedEntitlements, isPredefinedName } from './elevated.ts';
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
 * Reads both roles in one query and refuses what may not be granted; false when the membership is
 * there already. Membership in a login or superuser role would hand over that identity (SET ROLE),
 * not grant access.
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
    throw new PermanentError(`${settings.system}: group role ${shown(entitlement)} does not exist; Rollcall never creates group roles: create it, or correct the AccessRole`);
  }
  // Another system's marker role would move the account into that system's scope.
  if (group.comment?.startsWith(MARKER_TAG_PREFIX)) {
    throw new PermanentError(`${settings.system}: "${entitlement}" is the marker role of another ConnectedSystem, not an entitlement`);
  }
  if (group.canLogin || group.superuser || group.managed) {
    throw new PermanentError(`${settings.system}: role ${shown(entitlement)} is a login or superuser role, not a group role; it cannot be an entitlement`);
  }
  // Checked here as well as before planning: a role elevated since then is still never granted.
  const [elevated] = await elevatedEntitlements(sql, [entitlement]);
  if (elevated) throw new PermanentError(`${settings.system}: ${elevated.reason}`);
  known.grantable.set(entitlement, true);
  return true;
}

export async function grant(target: ChangeTarget, userName: string, entitlement: string): Promise<void> {
  const { sql, known } = target;
  checkName(target, 'user name', userName);
  checkName(target, 'entitlement', entitlement);
  refuseMarker(target, entitlement);
  if (isPredefinedName(entitlement)) throw new PermanentError(`${target.settings.system}: ${shown(entitlement)} is a PostgreSQL predefined role (pg_*), never granted by Rollcall`);
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
