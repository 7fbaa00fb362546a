// Applies one AccountChange. Every change first reads the role and refuses to touch one outside the
// managed scope (not in the marker role, or a superuser), and writes nothing when the role is already
// as asked, so applying a change twice issues no second write. DDL cannot take $n parameters:
// identifiers and literals are quoted by the client's escaping instead.
import type { Logger } from 'pino';
import { PermanentError, type AccountChange, type DesiredAccount } from '../../api/index.ts';
import { DISPLAY_NAME, findRole, type RoleRow } from './catalog.ts';
import { sqlState } from './errors.ts';
import { ensureMarkerRole } from './marker.ts';
import { roleNameProblem } from './names.ts';
import { inTransaction, type Sql } from './session.ts';
import type { PostgresSettings } from './settings.ts';

export interface ChangeTarget {
  sql: Sql;
  settings: PostgresSettings;
  logger: Logger;
}

export async function applyChange(target: ChangeTarget, change: AccountChange): Promise<void> {
  switch (change.op) {
    case 'create':
      return createRole(target, change.account);
    case 'update':
      return updateAttributes(target, change.userName, change.attributes);
    case 'grant':
      return grant(target, change.userName, change.entitlement);
    case 'revoke':
      return revoke(target, change.userName, change.entitlement);
    case 'disable':
      return setLogin(target, change.userName, false);
    case 'enable':
      return setLogin(target, change.userName, true);
    case 'delete':
      return dropRole(target, change.userName);
  }
}

const shown = (name: string) => JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);

function checkName(target: ChangeTarget, what: string, name: string): void {
  const problem = roleNameProblem(name);
  if (problem) throw new PermanentError(`${target.settings.system}: ${what} ${shown(name)} ${problem}`);
}

function notManaged(target: ChangeTarget, name: string): PermanentError {
  return new PermanentError(
    `${target.settings.system}: the name ${shown(name)} is taken by a role Rollcall does not manage ` +
      `(not a member of "${target.settings.managedRole}", or a superuser); Rollcall leaves it alone`,
  );
}

async function managedRole(target: ChangeTarget, name: string): Promise<RoleRow> {
  checkName(target, 'user name', name);
  const role = await findRole(target.sql, target.settings.managedRole, name);
  if (!role) throw new PermanentError(`${target.settings.system}: no role ${shown(name)}; create the account first`);
  if (!role.managed) throw notManaged(target, name);
  return role;
}

/** An empty comment is no comment in PostgreSQL: '' and null both mean "no displayName". */
async function setComment(target: ChangeTarget, role: RoleRow, value: string | null | undefined): Promise<void> {
  const wanted = value ? value : null;
  if (wanted === role.comment) return;
  const { sql } = target;
  await sql.query(`COMMENT ON ROLE ${sql.escapeIdentifier(role.name)} IS ${wanted === null ? 'NULL' : sql.escapeLiteral(wanted)}`);
}

async function alterLogin(sql: Sql, role: RoleRow, canLogin: boolean): Promise<void> {
  if (role.canLogin === canLogin) return;
  await sql.query(`ALTER ROLE ${sql.escapeIdentifier(role.name)} ${canLogin ? 'LOGIN' : 'NOLOGIN'}`);
}

async function createRole(target: ChangeTarget, account: DesiredAccount): Promise<void> {
  const { sql, settings } = target;
  checkName(target, 'user name', account.userName);
  await ensureMarkerRole(sql, settings.system, settings.managedRole);
  const canLogin = account.state !== 'disabled';
  const displayName = account.attributes[DISPLAY_NAME];
  const attempt = () =>
    inTransaction(sql, async () => {
      const existing = await findRole(sql, settings.managedRole, account.userName);
      if (existing && !existing.managed) throw notManaged(target, account.userName);
      if (existing) {
        // Already there: converge, writing only what differs.
        await setComment(target, existing, displayName);
        await alterLogin(sql, existing, canLogin);
        return;
      }
      // No password: how users authenticate (certificates, LDAP, Kerberos, ...) is pg_hba.conf's business.
      await sql.query(
        `CREATE ROLE ${sql.escapeIdentifier(account.userName)} ${canLogin ? 'LOGIN' : 'NOLOGIN'} IN ROLE ${sql.escapeIdentifier(settings.managedRole)}`,
      );
      if (displayName) await sql.query(`COMMENT ON ROLE ${sql.escapeIdentifier(account.userName)} IS ${sql.escapeLiteral(displayName)}`);
      target.logger.debug({ system: settings.system, userName: account.userName }, 'postgres: role created');
    });
  try {
    await attempt();
  } catch (error) {
    // Created concurrently by someone else between our read and our CREATE: read again and decide.
    if (!['42710', '23505'].includes(sqlState(error) ?? '')) throw error;
    await attempt();
  }
}

async function updateAttributes(target: ChangeTarget, userName: string, attributes: Record<string, string | null>): Promise<void> {
  if (!(DISPLAY_NAME in attributes)) return; // the only attribute this system stores
  await inTransaction(target.sql, async () => {
    const role = await managedRole(target, userName);
    await setComment(target, role, attributes[DISPLAY_NAME]);
  });
}

async function grant(target: ChangeTarget, userName: string, entitlement: string): Promise<void> {
  const { sql, settings } = target;
  checkName(target, 'entitlement', entitlement);
  if (entitlement === settings.managedRole) {
    throw new PermanentError(`${settings.system}: "${entitlement}" is Rollcall's marker role (spec.postgres.managedRole), not an entitlement`);
  }
  await inTransaction(sql, async () => {
    const user = await managedRole(target, userName);
    if (user.groups.includes(entitlement)) return;
    const group = await findRole(sql, settings.managedRole, entitlement);
    if (!group) {
      throw new PermanentError(`${settings.system}: group role ${shown(entitlement)} does not exist; Rollcall never creates group roles: create it, or correct the AccessRole`);
    }
    // Membership in a login or superuser role would hand over that identity (SET ROLE), not grant access.
    if (group.canLogin || group.superuser || group.managed) {
      throw new PermanentError(`${settings.system}: role ${shown(entitlement)} is a login or superuser role, not a group role; it cannot be an entitlement`);
    }
    await sql.query(`GRANT ${sql.escapeIdentifier(entitlement)} TO ${sql.escapeIdentifier(userName)}`);
  });
}

async function revoke(target: ChangeTarget, userName: string, entitlement: string): Promise<void> {
  const { sql, settings } = target;
  if (entitlement === settings.managedRole) {
    throw new PermanentError(`${settings.system}: "${entitlement}" is Rollcall's marker role (spec.postgres.managedRole), not an entitlement`);
  }
  await inTransaction(sql, async () => {
    const user = await managedRole(target, userName);
    if (!user.groups.includes(entitlement)) return;
    await sql.query(`REVOKE ${sql.escapeIdentifier(entitlement)} FROM ${sql.escapeIdentifier(userName)}`);
  });
}

async function setLogin(target: ChangeTarget, userName: string, canLogin: boolean): Promise<void> {
  const role = await inTransaction(target.sql, async () => {
    const found = await managedRole(target, userName);
    await alterLogin(target.sql, found, canLogin);
    return found;
  });
  // NOLOGIN only stops new sessions; a leaver's open ones end here. Done on every disable, so a
  // retry after a half-finished disable still ends them.
  if (!canLogin) await terminateSessions(target, role.oid);
}

async function dropRole(target: ChangeTarget, userName: string): Promise<void> {
  const { sql, settings } = target;
  if (roleNameProblem(userName)) return; // no role can have this name: it is already gone
  const role = await inTransaction(sql, async () => {
    const found = await findRole(sql, settings.managedRole, userName);
    if (!found) return undefined;
    if (!found.managed) throw notManaged(target, userName);
    const name = sql.escapeIdentifier(userName);
    // REASSIGN OWNED and DROP OWNED act on the connected database only (plus shared objects):
    // objects the role owns in other databases make DROP ROLE fail, with the server saying where.
    if (settings.onDelete === 'reassign') await sql.query(`REASSIGN OWNED BY ${name} TO ${sql.escapeIdentifier(settings.reassignTo!)}`);
    await sql.query(`DROP OWNED BY ${name}`);
    await sql.query(`DROP ROLE ${name}`);
    return found;
  });
  if (!role) return;
  target.logger.debug({ system: settings.system, userName }, 'postgres: role dropped');
  // Sessions opened before the drop keep running as the vanished role until they are ended.
  await terminateSessions(target, role.oid);
}

async function terminateSessions(target: ChangeTarget, oid: string): Promise<void> {
  const { rows } = await target.sql.query<{ ended: number }>(
    'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS ended FROM pg_stat_activity WHERE usesysid = $1::oid AND pid <> pg_backend_pid()',
    [oid],
  );
  const ended = rows[0]?.ended ?? 0;
  if (ended > 0) target.logger.debug({ system: target.settings.system, sessions: ended }, 'postgres: sessions terminated');
}
