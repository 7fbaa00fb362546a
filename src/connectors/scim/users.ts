// The /Users endpoint: find by userName, list the managed scope, create, change and delete.
// Finding returns any user with that exact userName; deciding whether Rollcall may touch it
// (the externalId marker) is the connector's job.
import { equals } from './filter.ts';
import type { ScimHttp } from './http.ts';
import { pages } from './paging.ts';
import { PATCH_OP_SCHEMA, isManaged, markerPrefix, type PatchOperation, type ScimUser } from './schema.ts';

export class UserDirectory {
  readonly #http: ScimHttp;
  readonly #pageSize: number;
  /** SCIM id to userName, for manager references; ids never change, so this never goes stale. */
  readonly #userNames = new Map<string, string>();

  constructor(http: ScimHttp, pageSize: number) {
    this.#http = http;
    this.#pageSize = pageSize;
  }

  async find(userName: string, signal: AbortSignal): Promise<ScimUser | undefined> {
    const query = { filter: equals('userName', userName) };
    for await (const user of pages<ScimUser>(this.#http, 'Users', query, this.#pageSize, `look up user "${userName}"`, signal)) {
      // userName compares case-insensitively (RFC 7643 §4.1.1): accept only the exact name.
      if (user.userName === userName) return this.#remember(user);
    }
    return undefined;
  }

  /** The users carrying `system`'s marker, and no others. */
  async *managed(system: string, signal: AbortSignal): AsyncGenerator<ScimUser> {
    const query = { filter: `externalId sw ${JSON.stringify(markerPrefix(system))}` };
    for await (const user of pages<ScimUser>(this.#http, 'Users', query, this.#pageSize, 'list managed users', signal)) {
      // The server's filter narrows the search; the exact marker check decides.
      if (isManaged(user, system)) yield this.#remember(user);
    }
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

  /** One write: a PATCH of `operations`, or on a server without PATCH a PUT of `next`. */
  async write(current: ScimUser, operations: PatchOperation[], next: ScimUser, usePatch: boolean, signal: AbortSignal): Promise<void> {
    const what = `change user "${current.userName}"`;
    if (usePatch) {
      const body = { schemas: [PATCH_OP_SCHEMA], Operations: operations };
      await this.#http.send({ method: 'PATCH', path: ['Users', current.id], body, what }, signal);
    } else {
      const { meta: _meta, groups: _groups, ...body } = next;
      await this.#http.send({ method: 'PUT', path: ['Users', current.id], body, what }, signal);
    }
  }

  /** Deletes the user; one already gone counts as deleted. */
  async delete(user: ScimUser, signal: AbortSignal): Promise<void> {
    await this.#http.send({ method: 'DELETE', path: ['Users', user.id], what: `delete user "${user.userName}"` }, signal, [404]);
  }

  #remember(user: ScimUser): ScimUser {
    this.#userNames.set(user.id, user.userName);
    return user;
  }
}
