// The SCIM 2.0 connector: observes and applies account changes on one SCIM service provider.
// Scope: only users whose externalId is `rollcall:<userName>` (see schema.ts). Every write is
// preceded by a read and skipped when the server already holds the wanted state, so applying
// the same change twice writes once; apply() says so ({ skipped }), so what is reported as done is
// what was written. Requests follow what the server declares (discovery.ts), as overridden by
// spec.scim.compatibility.
import type { Logger } from 'pino';
import { PermanentError, RetryableError, type AccountChange, type Capabilities, type DesiredAccount, type ObservedAccount } from '../../api/index.ts';
import type { ApplyResult, Connector } from '../types.ts';
import { attributeEdits, CORE_ATTRIBUTES, editedUser, ENTERPRISE_ATTRIBUTES, patchOperations, readAttributes } from './attributes.ts';
import { discoverFeatures, type Compatibility, type ServerFeatures } from './discovery.ts';
import { FilterChoice } from './filter.ts';
import { GroupDirectory } from './groups.ts';
import type { ScimHttp } from './http.ts';
import { isManaged, markerFor, ownerOf, USER_SCHEMA, type PatchOperation, type ScimUser } from './schema.ts';
import { UserDirectory } from './users.ts';

/** A displayName that is not caseExact, as the server compares it (RFC 7643 §2.2: case-insensitively). */
function groupNameKey(displayName: string): string {
  return displayName.toLowerCase();
}

const skipped = (reason: string): ApplyResult => ({ skipped: reason });

export interface ScimConnectorOptions {
  /** spec.scim.pageSize: the page asked for (the server's own limit may be smaller). */
  pageSize: number;
  compatibility?: Compatibility;
}

export class ScimConnector implements Connector {
  readonly #http: ScimHttp;
  readonly #system: string;
  readonly #logger: Logger;
  readonly #options: ScimConnectorOptions;
  readonly #users: UserDirectory;
  readonly #groups: GroupDirectory;
  #features: (ServerFeatures & { pageSize: number }) | undefined;

  constructor(http: ScimHttp, system: string, options: ScimConnectorOptions, logger: Logger) {
    this.#http = http;
    this.#system = system;
    this.#logger = logger;
    this.#options = options;
    // The directories are used only after #ready: the features are known by then.
    const features = () => this.#features!;
    const filters = new FilterChoice(() => features().filterOperators);
    this.#users = new UserDirectory(http, features, filters);
    this.#groups = new GroupDirectory(http, system, features, filters);
  }

  /**
   * The enterprise attributes appear once discovery has shown the server's User type has the
   * extension. The factory discovers before handing the connector out; only when the server was
   * unreachable then are they missing until the first call that reaches it.
   */
  get capabilities(): Capabilities {
    const attributes = this.#features?.enterpriseUser ? [...CORE_ATTRIBUTES, ...ENTERPRISE_ATTRIBUTES] : [...CORE_ATTRIBUTES];
    // Until discovery says otherwise, RFC 7643's default for Group displayName: caseExact false.
    const caseExact = this.#features?.groupNamesCaseExact ?? false;
    const comparison = caseExact ? undefined : { rule: 'SCIM Group displayName is not caseExact', entitlementKey: groupNameKey };
    return { disable: true, entitlements: true, attributes, ...(comparison ? { comparison } : {}) };
  }

  /** Discovery at construction is best effort: its failure resurfaces from the first real call. */
  async tryDiscover(signal: AbortSignal): Promise<void> {
    try {
      await this.#ready(signal);
    } catch (error) {
      this.#logger.debug({ system: this.#system, err: (error as Error).message }, 'SCIM discovery failed; retrying on first use');
    }
  }

  async check(signal: AbortSignal): Promise<void> {
    this.#learn(await discoverFeatures(this.#http, signal, this.#options.compatibility));
    // Discovery endpoints may be public (RFC 7644 §4): prove the credentials on /Users too.
    await this.#http.send({ method: 'GET', path: ['Users'], query: { count: 1, attributes: 'id' }, what: 'check access' }, signal);
  }

  /** Every managed account, from consistent listings read whole before the first is handed out. */
  async *listAccounts(signal: AbortSignal): AsyncIterable<ObservedAccount> {
    await this.#ready(signal);
    const memberships = await this.#groups.membershipsByUser(signal);
    const users = await this.#users.managed(this.#system, signal);
    for (const user of users) yield await this.#observe(user, memberships.get(user.id) ?? [], signal);
  }

  async getAccount(userName: string, signal: AbortSignal): Promise<ObservedAccount | undefined> {
    await this.#ready(signal);
    const user = await this.#users.find(userName, signal);
    if (!user) return undefined;
    const observed = await this.#observe(user, await this.#groups.namesOf(user.id, signal), signal);
    // Not ours: say whose it is, so the engine can adopt it or report a conflict.
    const owner = ownerOf(user, this.#system);
    return owner === undefined ? observed : { ...observed, owner };
  }

  async apply(change: AccountChange, signal: AbortSignal): Promise<ApplyResult | void> {
    await this.#ready(signal);
    switch (change.op) {
      case 'create':
        return this.#create(change.account, signal);
      case 'update': {
        const user = await this.#requireManaged(change.userName, signal);
        return (await this.#updateAttributes(user, change.attributes, signal)) ? undefined : skipped('the server already holds these values');
      }
      case 'grant': {
        const user = await this.#requireManaged(change.userName, signal);
        const key = this.#groups.nameKey(change.entitlement);
        if ((await this.#groups.namesOf(user.id, signal)).some((name) => this.#groups.nameKey(name) === key)) return skipped('already a member');
        return (await this.#groups.addMember(change.entitlement, user.id, signal)) ? undefined : skipped('already a member');
      }
      case 'revoke': {
        const user = await this.#findManaged(change.userName, signal);
        if (!user) return skipped('no such account');
        if (!(await this.#groups.namesOf(user.id, signal)).includes(change.entitlement)) return skipped('not a member');
        return (await this.#groups.removeMember(change.entitlement, user.id, signal)) ? undefined : skipped('not a member');
      }
      case 'disable':
      case 'enable': {
        const user = await this.#requireManaged(change.userName, signal);
        const active = change.op === 'enable';
        if ((user.active !== false) === active) return skipped(active ? 'already enabled' : 'already disabled');
        const operations: PatchOperation[] = [{ op: 'replace', path: 'active', value: active }];
        return this.#users.write(user, operations, { ...user, active }, signal);
      }
      case 'adopt':
        return this.#adopt(change.userName, signal);
      case 'delete': {
        // Absent, or someone else's: either way there is no managed account to delete.
        const user = await this.#findManaged(change.userName, signal);
        if (!user) return skipped('no such account');
        await this.#users.delete(user, signal);
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  async #ready(signal: AbortSignal): Promise<ServerFeatures> {
    return this.#features ?? this.#learn(await discoverFeatures(this.#http, signal, this.#options.compatibility));
  }

  #learn(features: ServerFeatures): ServerFeatures {
    // Rollcall keeps its marker in externalId: a server that will not store it cannot be managed.
    if (!features.externalIdWritable) {
      throw new PermanentError(
        `SCIM server of ${this.#system} does not let externalId be written (its /Schemas, or spec.scim.compatibility.externalIdWritable), and Rollcall keeps its ownership marker there`,
        { scope: 'system' },
      );
    }
    this.#features = { ...features, pageSize: Math.min(this.#options.pageSize, features.pageSize ?? this.#options.pageSize) };
    this.#groups.nameKey = features.groupNamesCaseExact ? (displayName) => displayName : groupNameKey;
    return features;
  }

  async #create(account: DesiredAccount, signal: AbortSignal): Promise<ApplyResult | void> {
    const existing = await this.#users.find(account.userName, signal);
    if (existing) return this.#converge(existing, account, signal);
    const base: ScimUser = {
      schemas: [USER_SCHEMA],
      id: '',
      userName: account.userName,
      externalId: markerFor(this.#system, account.userName),
      active: account.state !== 'disabled',
    };
    const wanted = await this.#toScimValues(account.attributes, signal);
    const { id: _id, ...body } = editedUser(base, attributeEdits(base, wanted, this.capabilities.attributes));
    const { conflict } = await this.#users.create(body, signal);
    if (!conflict) return;
    // Someone created it between our look-up and our POST (or a retry of our own POST won): converge on it.
    const raced = await this.#users.find(account.userName, signal);
    if (!raced)
      throw new PermanentError(
        `SCIM create user "${account.userName}" on ${this.#system} was refused as a conflict, but no user of that name exists: another attribute must be unique`,
      );
    return this.#converge(raced, account, signal);
  }

  /** Sets this system's marker on a legacy-marked or unmanaged user; another system's is refused. */
  async #adopt(userName: string, signal: AbortSignal): Promise<ApplyResult | void> {
    const user = await this.#users.find(userName, signal);
    if (!user) throw new PermanentError(`SCIM user "${userName}" does not exist in ${this.#system}: nothing to adopt`);
    const owner = ownerOf(user, this.#system);
    if (owner === undefined) return skipped('already managed by this system');
    if (owner === 'foreign')
      throw new PermanentError(
        `SCIM user "${userName}" in ${this.#system} belongs to another ConnectedSystem (externalId ${JSON.stringify(user.externalId)}); it is not adopted`,
      );
    const externalId = markerFor(this.#system, userName);
    await this.#users.write(user, [{ op: 'replace', path: 'externalId', value: externalId }], { ...user, externalId }, signal);
  }

  async #converge(user: ScimUser, account: DesiredAccount, signal: AbortSignal): Promise<ApplyResult | void> {
    if (!isManaged(user, this.#system)) throw this.#taken(account.userName);
    if (!(await this.#updateAttributes(user, account.attributes, signal))) return skipped('the account already exists as declared');
  }

  /** Writes the attributes that differ; false when none did (nothing written). */
  async #updateAttributes(user: ScimUser, attributes: Record<string, string | null>, signal: AbortSignal): Promise<boolean> {
    const wanted = await this.#toScimValues(attributes, signal);
    const edits = attributeEdits(user, wanted, this.capabilities.attributes);
    if (edits.size === 0) return false;
    await this.#users.write(user, patchOperations(user, edits), editedUser(user, edits), signal);
    return true;
  }

  /** Canonical values as SCIM holds them: the manager by the SCIM id of the manager's user. */
  async #toScimValues(attributes: Record<string, string | null>, signal: AbortSignal): Promise<Record<string, string | null>> {
    const manager = attributes['manager'];
    if (!manager || !this.capabilities.attributes.includes('manager')) return attributes;
    const user = await this.#users.find(manager, signal);
    if (!user) throw new RetryableError(`SCIM manager "${manager}" has no user in ${this.#system} yet; retrying once it exists`);
    return { ...attributes, manager: user.id };
  }

  async #observe(user: ScimUser, entitlements: string[], signal: AbortSignal): Promise<ObservedAccount> {
    const attributes = readAttributes(user, this.capabilities.attributes);
    if (attributes['manager'] !== undefined) {
      const manager = await this.#users.userNameOf(attributes['manager'], signal);
      if (manager === undefined) delete attributes['manager'];
      else attributes['manager'] = manager;
    }
    return { userName: user.userName, id: user.id, state: user.active === false ? 'disabled' : 'present', attributes, entitlements };
  }

  async #findManaged(userName: string, signal: AbortSignal): Promise<ScimUser | undefined> {
    const user = await this.#users.find(userName, signal);
    return user && isManaged(user, this.#system) ? user : undefined;
  }

  async #requireManaged(userName: string, signal: AbortSignal): Promise<ScimUser> {
    const user = await this.#users.find(userName, signal);
    if (!user) throw new PermanentError(`SCIM user "${userName}" does not exist in ${this.#system}: create it first`);
    if (!isManaged(user, this.#system)) throw this.#taken(userName);
    return user;
  }

  #taken(userName: string): PermanentError {
    return new PermanentError(
      `SCIM userName "${userName}" in ${this.#system} is taken by an account Rollcall does not manage (its externalId is not "${markerFor(this.#system, userName)}"); Rollcall will not change it`,
    );
  }
}
