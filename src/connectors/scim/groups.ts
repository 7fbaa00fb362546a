// Entitlements are SCIM Groups named by displayName. Their ids are looked up once and cached for
// the connector's life; membership is read from the groups (many servers leave User.groups empty)
// and changed with PATCH on /Groups/{id}, or GET + PUT on a server without PATCH.
import { PermanentError, RetryableError } from '../../api/index.ts';
import { equals } from './filter.ts';
import type { ScimHttp } from './http.ts';
import { pages } from './paging.ts';
import { GROUP_SCHEMA, PATCH_OP_SCHEMA, type ScimGroup } from './schema.ts';

export class GroupDirectory {
  readonly #http: ScimHttp;
  readonly #system: string;
  readonly #pageSize: number;
  readonly #ids = new Map<string, string>();
  /** How the server compares displayNames (ScimConnector sets it from discovery); exact until then. */
  nameKey: (displayName: string) => string = (displayName) => displayName;

  constructor(http: ScimHttp, system: string, pageSize: number) {
    this.#http = http;
    this.#system = system;
    this.#pageSize = pageSize;
  }

  /** The id of the group named `displayName`; a PermanentError when there is none. */
  async idOf(displayName: string, signal: AbortSignal): Promise<string> {
    const cached = this.#ids.get(displayName);
    if (cached) return cached;
    const what = `look up group "${displayName}"`;
    const query = { filter: equals('displayName', displayName), attributes: 'displayName' };
    const wanted = this.nameKey(displayName);
    const alike: ScimGroup[] = [];
    for await (const group of pages<ScimGroup>(this.#http, 'Groups', query, this.#pageSize, what, signal)) {
      if (group.displayName === displayName) {
        this.#ids.set(displayName, group.id);
        return group.id;
      }
      if (this.nameKey(group.displayName) === wanted) alike.push(group);
    }
    // Not caseExact: the group the server holds under another spelling is the one declared.
    if (alike.length === 1) {
      this.#ids.set(displayName, alike[0]!.id);
      return alike[0]!.id;
    }
    if (alike.length > 1) {
      throw new PermanentError(`SCIM group "${displayName}" of ${this.#system} is ambiguous: ${alike.map((g) => JSON.stringify(g.displayName)).join(', ')} all match it; rename all but one there`);
    }
    throw new PermanentError(`SCIM group "${displayName}" does not exist in ${this.#system}: create it there, or correct the AccessRole that grants it`);
  }

  /** displayNames of the groups the user is a member of, sorted. */
  async namesOf(userId: string, signal: AbortSignal): Promise<string[]> {
    const query = { filter: equals('members.value', userId), attributes: 'displayName' };
    const names: string[] = [];
    for await (const group of pages<ScimGroup>(this.#http, 'Groups', query, this.#pageSize, 'read group memberships', signal)) {
      this.#ids.set(group.displayName, group.id);
      names.push(group.displayName);
    }
    return sortedUnique(names);
  }

  /** Every group's members at once, for listing all accounts without one search per user. */
  async membershipsByUser(signal: AbortSignal): Promise<Map<string, string[]>> {
    const byUser = new Map<string, string[]>();
    const query = { attributes: 'displayName,members' };
    for await (const group of pages<ScimGroup>(this.#http, 'Groups', query, this.#pageSize, 'list groups', signal)) {
      this.#ids.set(group.displayName, group.id);
      for (const member of group.members ?? []) byUser.set(member.value, [...(byUser.get(member.value) ?? []), group.displayName]);
    }
    for (const [user, names] of byUser) byUser.set(user, sortedUnique(names));
    return byUser;
  }

  async addMember(displayName: string, userId: string, usePatch: boolean, signal: AbortSignal): Promise<void> {
    const op = { op: 'add' as const, path: 'members', value: [{ value: userId }] };
    await this.#change(displayName, usePatch, op, (members) => [...members.filter((m) => m.value !== userId), { value: userId }], signal);
  }

  async removeMember(displayName: string, userId: string, usePatch: boolean, signal: AbortSignal): Promise<void> {
    const op = { op: 'remove' as const, path: `members[${equals('value', userId)}]` };
    await this.#change(displayName, usePatch, op, (members) => members.filter((m) => m.value !== userId), signal);
  }

  async #change(
    displayName: string,
    usePatch: boolean,
    operation: { op: 'add' | 'remove'; path: string; value?: unknown },
    edit: (members: { value: string }[]) => { value: string }[],
    signal: AbortSignal,
  ): Promise<void> {
    const id = await this.idOf(displayName, signal);
    const what = `change the members of group "${displayName}"`;
    let status: number;
    if (usePatch) {
      const body = { schemas: [PATCH_OP_SCHEMA], Operations: [operation] };
      ({ status } = await this.#http.send({ method: 'PATCH', path: ['Groups', id], body, what }, signal, [404]));
    } else {
      const current = await this.#http.send({ method: 'GET', path: ['Groups', id], what }, signal, [404]);
      status = current.status;
      if (status !== 404) {
        const group = current.body as ScimGroup;
        const body = { schemas: [GROUP_SCHEMA], id, displayName: group.displayName, members: edit(group.members ?? []) };
        ({ status } = await this.#http.send({ method: 'PUT', path: ['Groups', id], body, what }, signal, [404]));
      }
    }
    if (status === 404) {
      // Deleted (and perhaps recreated) since it was cached: look it up afresh next time.
      this.#ids.delete(displayName);
      throw new RetryableError(`SCIM group "${displayName}" vanished from ${this.#system} while being changed; it will be looked up again`);
    }
  }
}

function sortedUnique(names: string[]): string[] {
  return [...new Set(names)].sort();
}
