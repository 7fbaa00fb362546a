// The /Users endpoint: find by userName, list the managed scope, create, change and delete.
// Finding returns any user with that exact userName; deciding whether Rollcall may touch it
// (the externalId marker) is the connector's job. Searches use a filter when the server takes it
// (FilterChoice), else list every user and choose here.
import { RetryableError } from '../../api/index.ts';
import type { ServerFeatures } from './discovery.ts';
import { equals, startsWith, type FilterChoice, type FilterKind } from './filter.ts';
import type { ScimHttp } from './http.ts';
import { listAll } from './paging.ts';
import { PATCH_OP_SCHEMA, isManaged, markerPrefix, type PatchOperation, type ScimUser } from './schema.ts';

export class UserDirectory {
  readonly #http: ScimHttp;
  readonly #features: () => ServerFeatures & { pageSize: number };
  readonly #filters: FilterChoice;
  /** SCIM id to userName, for manager references; ids never change, so this never goes stale. */
  readonly #userNames = new Map<string, string>();

  constructor(http: ScimHttp, features: () => ServerFeatures & { pageSize: number }, filters: FilterChoice) {
    this.#http = http;
    this.#features = features;
    this.#filters = filters;
  }

  async find(userName: string, signal: AbortSignal): Promise<ScimUser | undefined> {
    const users = await this.#search('userName eq', equals('userName', userName), `look up user "${userName}"`, signal);
    // userName compares case-insensitively (RFC 7643 §4.1.1): accept only the exact name.
    const user = users.find((candidate) => candidate.userName === userName);
    return user && this.#remember(user);
  }

  /** The users carrying `system`'s marker, and no others, from one consistent listing. */
  async managed(system: string, signal: AbortSignal): Promise<ScimUser[]> {
    const users = await this.#search('externalId sw', startsWith('externalId', markerPrefix(system)), 'list managed users', signal);
    // The server's filter narrows the search (when it has one); the exact marker check decides.
    return users.filter((user) => isManaged(user, system)).map((user) => this.#remember(user));
  }

  /** The userName of the user with this id, or undefined when there is none. */
  async userNameOf(id: string, signal: AbortSignal): Promise<string | undefined> {
    const known = this.#userNames.get(id);
    if (known !== undefined) return known;
    const response = await this.#http.send({ method: 'GET', path: ['Users', id], query: { attributes: 'userName' }, what: 'look up a manager' }, signal, [404]);
    if (response.status === 404) return undefined;
    return this.#remember(response.body as ScimUser).userName;
  }

  /** Creates the user; `conflict` when the server says one with that userName already exists. */
  async create(user: Omit<ScimUser, 'id'>, signal: AbortSignal): Promise<{ conflict: boolean }> {
    const what = `create user "${user.userName}"`;
    const response = await this.#http.send({ method: 'POST', path: ['Users'], body: user, what }, signal, [409]);
    return { conflict: response.status === 409 };
  }

  /**
   * One write: a PATCH of `operations`, or on a server without PATCH a PUT of `next`. The PUT
   * replaces the whole user, so on a server with ETags it is made against the version read, and a
   * user changed since is not overwritten (412: read again on the next pass).
   */
  async write(current: ScimUser, operations: PatchOperation[], next: ScimUser, signal: AbortSignal): Promise<void> {
    const what = `change user "${current.userName}"`;
    const { patch, etags } = this.#features();
    if (patch) {
      const body = { schemas: [PATCH_OP_SCHEMA], Operations: operations };
      await this.#http.send({ method: 'PATCH', path: ['Users', current.id], body, what }, signal);
      return;
    }
    const { meta: _meta, groups: _groups, ...body } = next;
    const ifMatch = etags ? current.meta?.version : undefined;
    const response = await this.#http.send({ method: 'PUT', path: ['Users', current.id], body, what, ...(ifMatch && { ifMatch }) }, signal, [412]);
    if (response.status === 412)
      throw new RetryableError(`SCIM ${what} on ${this.#http.system}: the user changed since it was read (HTTP 412); it is read again and retried`, {
        scope: 'account',
      });
  }

  /** Deletes the user; one already gone counts as deleted. */
  async delete(user: ScimUser, signal: AbortSignal): Promise<void> {
    await this.#http.send({ method: 'DELETE', path: ['Users', user.id], what: `delete user "${user.userName}"` }, signal, [404]);
  }

  /** The users the filter finds (some more without one): filtered when the server takes it, else every user. */
  async #search(kind: FilterKind, filter: string, what: string, signal: AbortSignal): Promise<ScimUser[]> {
    const pageSize = this.#features().pageSize;
    if (this.#filters.usable(kind)) {
      const found = await listAll<ScimUser>(this.#http, { endpoint: 'Users', query: { filter }, pageSize, what, refusable: true }, signal);
      if (found !== 'refused') return found;
      this.#filters.refused(kind);
    }
    return (await listAll<ScimUser>(this.#http, { endpoint: 'Users', query: {}, pageSize, what }, signal)) as ScimUser[];
  }

  #remember(user: ScimUser): ScimUser {
    this.#userNames.set(user.id, user.userName);
    return user;
  }
}
