// What every change works with, and the checks they share: a name a role can have, and a role
// inside the managed scope (a direct member of the marker role, and not a superuser).
import type { Logger } from 'pino';
import { PermanentError } from '../../api/index.ts';
import { findRole, type RoleRow } from './catalog.ts';
import type { KnownRoles } from './known.ts';
import { roleNameProblem } from './names.ts';
import type { Sql } from './session.ts';
import type { PostgresSettings } from './settings.ts';

export interface ChangeTarget {
  sql: Sql;
  settings: PostgresSettings;
  logger: Logger;
  known: KnownRoles;
}

/** SQLSTATEs the changes answer to. */
export const UNDEFINED_OBJECT = '42704';
export const DUPLICATE_OBJECT = '42710';
export const UNIQUE_VIOLATION = '23505';

export const shown = (name: string) => JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);

export function checkName(target: ChangeTarget, what: 'user name' | 'entitlement', name: string): void {
  const problem = roleNameProblem(name);
  // A refused user name is the User's spec.userName: said so, the error names the field to fix.
  if (problem)
    throw new PermanentError(`${target.settings.system}: ${what} ${shown(name)} ${problem}`, what === 'user name' ? { attributes: ['userName'] } : undefined);
}

export function notManaged(target: ChangeTarget, name: string): PermanentError {
  return new PermanentError(
    `${target.settings.system}: the name ${shown(name)} is taken by a role Rollcall does not manage ` +
      `(not a member of "${target.settings.managedRole}", or a superuser); Rollcall leaves it alone`,
  );
}

export async function managedRole(target: ChangeTarget, name: string): Promise<RoleRow> {
  checkName(target, 'user name', name);
  const role = await findRole(target.sql, target.settings, name);
  if (!role) throw new PermanentError(`${target.settings.system}: no role ${shown(name)}; create the account first`);
  if (!role.managed) throw notManaged(target, name);
  target.known.managed.set(name, true);
  return role;
}
