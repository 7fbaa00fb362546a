// Applies one AccountChange. Nothing outside the managed scope (not in the marker role, or a
// superuser) is touched, and nothing is written when the role is already as asked, so applying a
// change twice issues no second write. The common path sends only its writes: a create is one round
// trip, and a grant to a role just created or read is one more (memberships.ts). DDL cannot take $n
// parameters: identifiers and literals are quoted by the client's escaping instead.
import { PermanentError, type AccountChange, type DesiredAccount } from '../../api/index.ts';
import { adoptionRefusal, findShapedRole } from './adoptable.ts';
import { DISPLAY_NAME, findRole, LEGACY_MARKER, MARKER_TAG_PREFIX, ownerOf, type RoleRow } from './catalog.ts';
import { sqlState } from './errors.ts';
import { ensureMarkerRole } from './marker.ts';
import { grant, revoke } from './memberships.ts';
import { scramVerifier } from './scram.ts';
import { roleNameProblem } from './names.ts';
import type { Sql } from './session.ts';
import { checkName, DUPLICATE_OBJECT, managedRole, notManaged, shown, UNDEFINED_OBJECT, UNIQUE_VIOLATION, type ChangeTarget } from './target.ts';

export async function applyChange(target: ChangeTarget, change: AccountChange): Promise<void> {
  switch (change.op) {
    case 'create':
      return createRole(target, change.account, change.initialPassword);
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
    case 'adopt':
      return adoptRole(target, change.userName);
  }
}

/**
 * Makes a legacy-marked or unmanaged role a member of this system's marker; another system's (or a
 * superuser), and one that is not a plain login (adoptable.ts), are refused: checked here again, so
 * no path adopts what the engine was told not to.
 */
async function adoptRole(target: ChangeTarget, userName: string): Promise<void> {
  const { sql, settings, known } = target;
  checkName(target, 'user name', userName);
  const role = await findShapedRole(sql, settings, userName);
  if (!role) throw new PermanentError(`${settings.system}: no role ${shown(userName)} to adopt`);
  const owner = ownerOf(role);
  if (owner === undefined) return;
  if (owner === 'foreign')
    throw new PermanentError(`${settings.system}: role ${shown(userName)} belongs to another ConnectedSystem or is a superuser; it is not adopted`);
  const refusal = adoptionRefusal(role);
  if (refusal !== undefined) throw new PermanentError(`${settings.system}: ${refusal}; Rollcall adopts only a plain login role`);
  await ensureMarker(target);
  const statements = [`GRANT ${sql.escapeIdentifier(settings.managedRole)} TO ${sql.escapeIdentifier(userName)}`];
  if (owner === 'legacy' && settings.managedRole !== LEGACY_MARKER)
    statements.push(`REVOKE ${sql.escapeIdentifier(LEGACY_MARKER)} FROM ${sql.escapeIdentifier(userName)}`);
  await sql.query(statements.join('; '));
  known.managed.set(userName, true);
}

/** An empty comment is no comment in PostgreSQL: '' and null both mean "no displayName". */
async function setComment(target: ChangeTarget, role: RoleRow, value: string | null | undefined): Promise<void> {
  const wanted = value ? value : null;
  if (wanted === role.comment) return;
  const { sql } = target;
  // A marker's tag is what makes it one: rewritten, its system's accounts would fall out of its scope.
  if (role.comment?.startsWith(MARKER_TAG_PREFIX))
    throw new PermanentError(`${target.settings.system}: role ${shown(role.name)} carries a marker tag; its comment is not a displayName to write`);
  await sql.query(`COMMENT ON ROLE ${sql.escapeIdentifier(role.name)} IS ${wanted === null ? 'NULL' : sql.escapeLiteral(wanted)}`);
}

async function alterLogin(sql: Sql, role: RoleRow, canLogin: boolean): Promise<void> {
  if (role.canLogin === canLogin) return;
  await sql.query(`ALTER ROLE ${sql.escapeIdentifier(role.name)} ${canLogin ? 'LOGIN' : 'NOLOGIN'}`);
}

async function ensureMarker(target: ChangeTarget): Promise<void> {
  const { sql, settings, known } = target;
  if (known.marker.get(settings.managedRole)) return;
  await ensureMarkerRole(sql, settings);
  known.marker.set(settings.managedRole, true);
}

async function createRole(target: ChangeTarget, account: DesiredAccount, initialPassword?: string): Promise<void> {
  const { sql, settings, known } = target;
  const { userName } = account;
  checkName(target, 'user name', userName);
  const canLogin = account.state !== 'disabled';
  const displayName = account.attributes[DISPLAY_NAME];
  const role = sql.escapeIdentifier(userName);
  // No password unless spec.credentials.policy delivers a first one: how users authenticate
  // (certificates, LDAP, Kerberos, ...) is otherwise pg_hba.conf's business. PostgreSQL has no
  // "must change at next login": the delivered password stays valid until someone changes it.
  // The SCRAM verifier, never the clear text, goes to the server (scram.ts): no statement log shows it.
  const password = initialPassword === undefined ? '' : ` PASSWORD ${sql.escapeLiteral(scramVerifier(initialPassword))}`;
  // One query of several statements runs as one transaction: the role never exists without its comment.
  const statements = [`CREATE ROLE ${role} ${canLogin ? 'LOGIN' : 'NOLOGIN'}${password} IN ROLE ${sql.escapeIdentifier(settings.managedRole)}`];
  if (displayName) statements.push(`COMMENT ON ROLE ${role} IS ${sql.escapeLiteral(displayName)}`);
  for (let attempt = 1; ; attempt++) {
    await ensureMarker(target);
    try {
      await sql.query(statements.join('; '));
      break;
    } catch (error) {
      const state = sqlState(error);
      if (state === DUPLICATE_OBJECT || state === UNIQUE_VIOLATION) {
        // There already, created earlier or by someone else: read it and decide.
        const existing = await findRole(sql, settings, userName);
        if (existing && !existing.managed) throw notManaged(target, userName);
        if (existing) {
          known.managed.set(userName, true);
          // Converge, writing only what differs.
          await setComment(target, existing, displayName);
          // The retry of a create whose answer was lost carries the same delivered password: set it again.
          if (initialPassword !== undefined) await sql.query(`ALTER ROLE ${role} PASSWORD ${sql.escapeLiteral(scramVerifier(initialPassword))}`);
          return alterLogin(sql, existing, canLogin);
        }
        // Dropped again in the meantime: try once more.
        if (attempt === 1) continue;
      }
      // The marker role went away since it was checked: check (and create) it again.
      if (state === UNDEFINED_OBJECT && attempt === 1) {
        known.marker.delete(settings.managedRole);
        continue;
      }
      throw error;
    }
  }
  known.managed.set(userName, true);
  target.logger.debug({ system: settings.system, userName }, 'postgres: role created');
}

async function updateAttributes(target: ChangeTarget, userName: string, attributes: Record<string, string | null>): Promise<void> {
  if (!(DISPLAY_NAME in attributes)) return; // the only attribute this system stores
  const role = await managedRole(target, userName);
  await setComment(target, role, attributes[DISPLAY_NAME]);
}

async function setLogin(target: ChangeTarget, userName: string, canLogin: boolean): Promise<void> {
  const role = await managedRole(target, userName);
  if (canLogin) return alterLogin(target.sql, role, true);
  // NOLOGIN only stops new sessions; a leaver's open ones end here, in the same round trip. Done on
  // every disable, so a retry after a half-finished disable still ends them.
  await terminateSessions(target, role.oid, role.canLogin ? [`ALTER ROLE ${target.sql.escapeIdentifier(role.name)} NOLOGIN`] : []);
}

async function dropRole(target: ChangeTarget, userName: string): Promise<void> {
  const { sql, settings, known } = target;
  if (roleNameProblem(userName)) return; // no role can have this name: it is already gone
  const role = await findRole(sql, settings, userName);
  known.managed.delete(userName);
  if (!role) return;
  if (!role.managed) throw notManaged(target, userName);
  const name = sql.escapeIdentifier(userName);
  // REASSIGN OWNED and DROP OWNED act on the connected database only (plus shared objects):
  // objects the role owns in other databases make DROP ROLE fail, with the server saying where.
  // One query of several statements is one transaction: all of them happen, or none.
  const statements = [`DROP OWNED BY ${name}`, `DROP ROLE ${name}`];
  if (settings.onDelete === 'reassign') statements.unshift(`REASSIGN OWNED BY ${name} TO ${sql.escapeIdentifier(settings.reassignTo)}`);
  await sql.query(statements.join('; '));
  target.logger.debug({ system: settings.system, userName }, 'postgres: role dropped');
  // Sessions opened before the drop keep running as the vanished role until they are ended.
  await terminateSessions(target, role.oid);
}

/**
 * Ends the role's sessions, after the statements `first` in the same query: one round trip, one
 * transaction (a NOLOGIN that fails ends nothing). The oid is the server's own, quoted as a literal.
 */
async function terminateSessions(target: ChangeTarget, oid: string, first: readonly string[] = []): Promise<void> {
  const { sql } = target;
  const end = `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS ended FROM pg_stat_activity WHERE usesysid = ${sql.escapeLiteral(oid)}::oid AND pid <> pg_backend_pid()`;
  // Several statements answer with one result each; one statement with its own.
  const answer: unknown = await sql.query([...first, end].join('; '));
  const results = (Array.isArray(answer) ? answer : [answer]) as { rows: { ended: number }[] }[];
  const ended = results.at(-1)?.rows[0]?.ended ?? 0;
  if (ended > 0) target.logger.debug({ system: target.settings.system, sessions: ended }, 'postgres: sessions terminated');
}
