// PostgreSQL accounts: one LOGIN role per user, entitlements as memberships in existing group roles,
// displayName as the role's comment. The managed scope is the non-superuser direct members of the
// marker role; nothing else is listed, read or changed.
import type { Logger } from 'pino';
import { PermanentError, changeUserName, type AccountChange, type Capabilities, type ObservedAccount, type RefusedEntitlement } from '../../api/index.ts';
import type { Connector } from '../types.ts';
import { allRoleNames, DISPLAY_NAME, managedRoles, ownerOf, toObservedAccount } from './catalog.ts';
import { checkMarkerRole } from './marker.ts';
import { catalogChangeToken } from './change-token.ts';
import { applyChange } from './changes.ts';
import { adoptionRefusal, findShapedRole } from './adoptable.ts';
import { groupRoleFitness } from './grantable.ts';
import { KnownRoles } from './known.ts';
import { PassRefusals } from './pass-refusals.ts';
import { MAX_ROLE_NAME_BYTES, roleNameKey, roleNameProblem } from './names.ts';
import type { Session } from './session.ts';
import type { PostgresSettings } from './settings.ts';

export class PostgresConnector implements Connector {
  readonly capabilities: Capabilities = {
    disable: true,
    entitlements: true,
    attributes: [DISPLAY_NAME],
    comparison: { rule: `PostgreSQL cuts role names to ${MAX_ROLE_NAME_BYTES} bytes`, entitlementKey: roleNameKey },
    // A disable or delete terminates the role's backends (changes.ts); a create can set a first password.
    endsSessions: true,
    initialPassword: true,
  };
  readonly #settings: PostgresSettings;
  readonly #session: Session;
  readonly #logger: Logger;
  readonly #known = new KnownRoles();
  readonly #refusals = new PassRefusals();

  constructor(settings: PostgresSettings, session: Session, logger: Logger) {
    this.#settings = settings;
    this.#session = session;
    this.#logger = logger;
  }

  async check(signal: AbortSignal): Promise<void> {
    const { system, username } = this.#settings;
    await this.#session.run('check', signal, async (sql) => {
      const { rows } = await sql.query<{ allowed: boolean }>('SELECT rolsuper OR rolcreaterole AS allowed FROM pg_roles WHERE rolname = current_user');
      if (!rows[0]?.allowed) {
        throw new PermanentError(`${system}: role "${username}" needs CREATEROLE (and pg_signal_backend to end sessions of disabled users)`);
      }
      await checkMarkerRole(sql, this.#settings);
    });
  }

  async *listAccounts(signal: AbortSignal): AsyncIterable<ObservedAccount> {
    // A listing starts a pass: the group roles' fitness is asked afresh.
    this.#refusals.clear();
    const rows = await this.#session.run('list roles', signal, (sql) => managedRoles(sql, this.#settings));
    for (const row of rows) {
      this.#known.managed.set(row.name, true);
      yield toObservedAccount(row);
    }
  }

  async changeToken(signal: AbortSignal): Promise<string> {
    return this.#session.run("read the catalogs' change token", signal, catalogChangeToken);
  }

  async *listUserNames(signal: AbortSignal): AsyncIterable<string> {
    yield* await this.#session.run('list role names', signal, (sql) => allRoleNames(sql));
  }

  async getAccount(userName: string, signal: AbortSignal): Promise<ObservedAccount | undefined> {
    // A name no role can have matches nothing; sent anyway, PostgreSQL would truncate it and match another.
    if (roleNameProblem(userName)) return undefined;
    const row = await this.#session.run(`read role ${JSON.stringify(userName)}`, signal, (sql) => findShapedRole(sql, this.#settings, userName));
    if (!row) {
      this.#known.managed.delete(userName);
      return undefined;
    }
    const owner = ownerOf(row);
    if (owner !== undefined) {
      // Not ours: say whose it is, and whether its shape forbids taking it, so the engine can adopt it or report a conflict.
      this.#known.managed.delete(userName);
      const refusal = owner === 'foreign' ? undefined : adoptionRefusal(row);
      return { ...toObservedAccount(row), owner, ...(refusal !== undefined && { notAdoptable: refusal }) };
    }
    this.#known.managed.set(userName, true);
    return toObservedAccount(row);
  }

  async refusedEntitlements(entitlements: readonly string[], signal: AbortSignal): Promise<RefusedEntitlement[]> {
    if (entitlements.length === 0) return [];
    return this.#refusals.refused(entitlements, async (names) => {
      const fitness = await this.#session.run('check entitlements', signal, (sql) => groupRoleFitness(sql, this.#settings, names));
      // Just checked: the grants of this pass need only their GRANT (memberships.ts).
      for (const name of fitness.grantable) this.#known.grantable.set(name, true);
      return fitness.refused;
    });
  }

  /** A name no role can have is never granted: sent anyway, PostgreSQL would cut it and grant another role. */
  refusal(entitlement: string): string | undefined {
    const problem = roleNameProblem(entitlement);
    return problem && `the role name ${problem}`;
  }

  async apply(change: AccountChange, signal: AbortSignal): Promise<void> {
    const what = `${change.op} ${JSON.stringify(changeUserName(change).slice(0, 80))}`;
    await this.#session.run(what, signal, (sql) => applyChange({ sql, settings: this.#settings, logger: this.#logger, known: this.#known }, change));
  }

  async close(): Promise<void> {
    await this.#session.close();
  }
}
