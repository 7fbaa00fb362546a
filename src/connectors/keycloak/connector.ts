// The Keycloak connector: observes and applies account changes on the users of one realm through the
// admin REST API (@keycloak/keycloak-admin-client). Scope: users whose attribute rollcall-system is
// this ConnectedSystem's namespace/name (marker.ts). Every write is preceded by a read and skipped
// when Keycloak already holds the wanted state, so applying the same change twice writes once.
import type { Logger } from 'pino';
import { PermanentError, type AccountChange, type Capabilities, type DesiredAccount, type ObservedAccount, type RefusedEntitlement } from '../../api/index.ts';
import type { Connector } from '../types.ts';
import { refusedAdminEntitlements } from './admin-roles.ts';
import { defaultRoleName, groupPathsOf, parseEntitlement, spelledEntitlements } from './entitlements.ts';
import { findTarget, grant, missingTarget, revoke, unless404 } from './grants.ts';
import { isManaged, MARKER_ATTRIBUTE, ownerOf } from './marker.ts';
import { ensureProfile } from './profile.ts';
import { endSessions } from './sessions.ts';
import type { KeycloakSession } from './session.ts';
import { editedUser, newUser, readAttributes, STORED_ATTRIBUTES, withMarker, type KeycloakUser } from './user.ts';

export interface KeycloakConnectorOptions {
  system: string;
  session: KeycloakSession;
  logger: Logger;
  /** spec.allowedEntitlements: an administrative role passes only when named here exactly. */
  allowedEntitlements: readonly string[];
  pageSize?: number;
}

/** Keycloak keeps usernames in lower case, and its default profile allows 3 to 255 characters without controls. */
export function userNameProblem(userName: string): string | undefined {
  if (userName !== userName.toLowerCase()) return 'Keycloak keeps usernames in lower case; use the lower-case name';
  if (userName.length < 3 || userName.length > 255) return 'a Keycloak username has 3 to 255 characters';
  if (/[\p{Cc}\p{Cf}\s]/u.test(userName)) return 'a Keycloak username has no spaces or control characters';
  return undefined;
}

export class KeycloakConnector implements Connector {
  readonly #system: string;
  readonly #session: KeycloakSession;
  readonly #logger: Logger;
  readonly #allowed: readonly string[];
  readonly #pageSize: number;
  #profileReady = false;

  constructor(options: KeycloakConnectorOptions) {
    this.#system = options.system;
    this.#session = options.session;
    this.#logger = options.logger;
    this.#allowed = options.allowedEntitlements;
    this.#pageSize = options.pageSize ?? 100;
  }

  get capabilities(): Capabilities {
    return {
      disable: true,
      entitlements: true,
      attributes: STORED_ATTRIBUTES,
      // Keycloak keeps e-mail addresses in lower case.
      comparison: {
        rule: 'Keycloak keeps e-mail addresses in lower case',
        attributeKey: (attribute, value) => (attribute === 'email' ? value.toLowerCase() : value),
      },
      endsSessions: true,
      initialPassword: true,
    };
  }

  /** Proves the credentials and the permissions to read users, and that the user profile keeps the marker. */
  async check(signal: AbortSignal): Promise<void> {
    try {
      await this.#session.run('count users', signal, (client) => client.users.count({ username: 'rollcall-check' }));
      await this.#ensureProfile(signal);
    } catch (error) {
      // Whatever check() meets (a missing realm, a missing permission) every account would meet.
      throw error instanceof PermanentError && error.scope !== 'system' ? new PermanentError(error.message, { cause: error, scope: 'system' }) : error;
    }
  }

  async *listAccounts(signal: AbortSignal): AsyncIterable<ObservedAccount> {
    for (let first = 0; ; first += this.#pageSize) {
      const page = await this.#session.run('list managed users', signal, (client) =>
        client.users.find({ q: `${MARKER_ATTRIBUTE}:${this.#system}`, first, max: this.#pageSize, briefRepresentation: false }),
      );
      for (const user of page as KeycloakUser[]) if (isManaged(user, this.#system)) yield await this.#observe(user, signal);
      if (page.length < this.#pageSize) return;
    }
  }

  async getAccount(userName: string, signal: AbortSignal): Promise<ObservedAccount | undefined> {
    const user = await this.#find(userName, signal);
    if (!user) return undefined;
    const observed = await this.#observe(user, signal);
    const owner = ownerOf(user, this.#system);
    return owner === undefined ? observed : { ...observed, owner };
  }

  /** A name that spells no Keycloak entitlement, or the realm's default role (every user holds it). */
  refusal(entitlement: string): string | undefined {
    const parsed = parseEntitlement(entitlement);
    if (typeof parsed === 'string') return parsed;
    if (parsed.kind === 'realm' && parsed.role === defaultRoleName(this.#session.realm))
      return `${JSON.stringify(entitlement)} is the realm's default role, which every user holds: not an entitlement`;
    return undefined;
  }

  async refusedEntitlements(entitlements: readonly string[], signal: AbortSignal): Promise<RefusedEntitlement[]> {
    if (entitlements.length === 0) return [];
    return this.#session.run('check entitlements for administrative roles', signal, (client) =>
      refusedAdminEntitlements(client, this.#session.realm, entitlements, this.#allowed),
    );
  }

  async apply(change: AccountChange, signal: AbortSignal): Promise<void> {
    switch (change.op) {
      case 'create':
        return this.#create(change.account, change.initialPassword, signal);
      case 'update': {
        const user = await this.#requireManaged(change.userName, signal);
        return this.#put(user, editedUser(user, change.attributes), signal);
      }
      case 'grant':
      case 'revoke':
        return this.#entitlement(change.op, change.userName, change.entitlement, signal);
      case 'disable':
      case 'enable': {
        const user = await this.#requireManaged(change.userName, signal);
        await this.#put(user, editedUser(user, {}, { enabled: change.op === 'enable' }), signal);
        if (change.op === 'disable') await this.#session.run(`end the sessions of ${quoted(user.username)}`, signal, (client) => endSessions(client, user.id));
        return;
      }
      case 'adopt':
        return this.#adopt(change.userName, signal);
      case 'delete': {
        // Absent, or someone else's: either way there is no managed account to delete.
        const user = await this.#findManaged(change.userName, signal);
        if (!user) return;
        await this.#session.run(`end the sessions of ${quoted(user.username)}`, signal, (client) => endSessions(client, user.id));
        await this.#session.run(`delete user ${quoted(user.username)}`, signal, (client) => unless404(client.users.del({ id: user.id })));
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.#session.close();
  }

  async #ensureProfile(signal: AbortSignal): Promise<void> {
    if (this.#profileReady) return;
    await this.#session.run('declare the user profile attributes', signal, (client) => ensureProfile(client, this.#system, this.#session.realm));
    this.#profileReady = true;
  }

  async #create(account: DesiredAccount, initialPassword: string | undefined, signal: AbortSignal): Promise<void> {
    const problem = userNameProblem(account.userName);
    if (problem) throw new PermanentError(`Keycloak username ${quoted(account.userName)} in ${this.#system}: ${problem}`, { scope: 'account' });
    await this.#ensureProfile(signal);
    const existing = await this.#find(account.userName, signal);
    if (existing) return this.#converge(existing, account, signal);
    const rep = {
      ...newUser(account.userName, this.#system, account.attributes, account.state !== 'disabled'),
      // Temporary: Keycloak adds the UPDATE_PASSWORD required action, so the first login must change it.
      ...(initialPassword === undefined
        ? {}
        : { credentials: [{ type: 'password', value: initialPassword, temporary: true }], requiredActions: ['UPDATE_PASSWORD'] }),
    };
    const created = await this.#session.run(`create user ${quoted(account.userName)}`, signal, async (client) => {
      try {
        return await client.users.create(rep);
      } catch (error) {
        if ((error as { response?: { status?: number } }).response?.status === 409) return undefined;
        throw error;
      }
    });
    if (created) return;
    // Someone created it between our look-up and our POST (or a retry of our own POST won): converge on it.
    const raced = await this.#find(account.userName, signal);
    if (!raced)
      throw new PermanentError(
        `Keycloak refused to create user ${quoted(account.userName)} in ${this.#system} as a conflict, but no user of that name exists: its e-mail address must be taken`,
        { scope: 'account' },
      );
    return this.#converge(raced, account, signal);
  }

  async #converge(user: KeycloakUser, account: DesiredAccount, signal: AbortSignal): Promise<void> {
    if (!isManaged(user, this.#system)) throw this.#taken(user.username);
    await this.#put(user, editedUser(user, account.attributes), signal);
  }

  /** Sets this system's marker on an unmanaged user; another system's is refused. */
  async #adopt(userName: string, signal: AbortSignal): Promise<void> {
    await this.#ensureProfile(signal);
    const user = await this.#find(userName, signal);
    if (!user) throw new PermanentError(`Keycloak user ${quoted(userName)} does not exist in ${this.#system}: nothing to adopt`, { scope: 'account' });
    const owner = ownerOf(user, this.#system);
    if (owner === undefined) return;
    if (owner === 'foreign')
      throw new PermanentError(
        `Keycloak user ${quoted(userName)} in ${this.#system} belongs to another ConnectedSystem (its ${MARKER_ATTRIBUTE} attribute); it is not adopted`,
        { scope: 'account' },
      );
    const { id, ...rep } = withMarker(user, this.#system);
    await this.#session.run(`adopt user ${quoted(userName)}`, signal, (client) => client.users.update({ id }, rep));
  }

  async #entitlement(op: 'grant' | 'revoke', userName: string, name: string, signal: AbortSignal): Promise<void> {
    const refusal = this.refusal(name);
    if (refusal) throw new PermanentError(`Keycloak ${op} of ${quoted(name)} in ${this.#system}: ${refusal}`, { scope: 'account' });
    const user = op === 'grant' ? await this.#requireManaged(userName, signal) : await this.#findManaged(userName, signal);
    if (!user) return;
    const held = (await this.#observe(user, signal)).entitlements.includes(name);
    if (held === (op === 'grant')) return;
    if (op === 'grant') {
      const [refused] = await this.refusedEntitlements([name], signal);
      if (refused) throw new PermanentError(`Keycloak grant in ${this.#system}: ${refused.reason}`, { scope: 'account' });
    }
    const entitlement = parseEntitlement(name);
    if (typeof entitlement === 'string') throw new PermanentError(entitlement, { scope: 'account' });
    await this.#session.run(`${op} ${quoted(name)} ${op === 'grant' ? 'to' : 'from'} ${quoted(userName)}`, signal, async (client) => {
      const target = await findTarget(client, entitlement);
      if (!target) throw missingTarget(this.#system, name);
      await (op === 'grant' ? grant(client, user.id, target) : revoke(client, user.id, target));
    });
  }

  async #put(user: KeycloakUser, edited: KeycloakUser | undefined, signal: AbortSignal): Promise<void> {
    if (!edited) return;
    const { id, ...rep } = edited;
    await this.#session.run(`update user ${quoted(user.username)}`, signal, (client) => client.users.update({ id }, rep));
  }

  async #observe(user: KeycloakUser, signal: AbortSignal): Promise<ObservedAccount> {
    const entitlements = await this.#session.run(`read the roles and groups of ${quoted(user.username)}`, signal, async (client) => {
      const mappings = await client.users.listRoleMappings({ id: user.id });
      return spelledEntitlements(this.#session.realm, mappings, await groupPathsOf(client, user.id));
    });
    return { userName: user.username, id: user.id, state: user.enabled === false ? 'disabled' : 'present', attributes: readAttributes(user), entitlements };
  }

  /** The user named exactly `userName` (Keycloak matches case-insensitively; Rollcall does not), or undefined. */
  async #find(userName: string, signal: AbortSignal): Promise<KeycloakUser | undefined> {
    if (userNameProblem(userName)) return undefined; // no Keycloak user has such a name
    const found = await this.#session.run(`look up user ${quoted(userName)}`, signal, (client) =>
      client.users.find({ username: userName, exact: true, briefRepresentation: false }),
    );
    return (found as KeycloakUser[]).find((user) => user.username === userName);
  }

  async #findManaged(userName: string, signal: AbortSignal): Promise<KeycloakUser | undefined> {
    const user = await this.#find(userName, signal);
    return user && isManaged(user, this.#system) ? user : undefined;
  }

  async #requireManaged(userName: string, signal: AbortSignal): Promise<KeycloakUser> {
    const user = await this.#find(userName, signal);
    if (!user) throw new PermanentError(`Keycloak user ${quoted(userName)} does not exist in ${this.#system}: create it first`, { scope: 'account' });
    if (!isManaged(user, this.#system)) throw this.#taken(userName);
    return user;
  }

  #taken(userName: string): PermanentError {
    this.#logger.debug({ system: this.#system, userName }, 'Keycloak user outside the managed scope');
    return new PermanentError(
      `Keycloak username ${quoted(userName)} in ${this.#system} is taken by a user Rollcall does not manage (its ${MARKER_ATTRIBUTE} attribute is not "${this.#system}"); Rollcall will not change it`,
      { scope: 'account' },
    );
  }
}

function quoted(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
