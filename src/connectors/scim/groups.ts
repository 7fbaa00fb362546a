// Entitlements are SCIM Groups named by displayName. Their ids are looked up once and cached for
// the connector's life; membership is read from the groups (many servers leave User.groups empty).
//
// Membership changes to one group are made one at a time (a queue per group): on a server without
// PATCH a change is a GET and a PUT of the whole member list, and two made at once would each put
// back a list without the other's member. Across processes (two replicas, a hand change) the PUT
// carries If-Match when the server has ETags, and a 412 reads the group again and retries.
import PQueue from 'p-queue';
import { PermanentError, RetryableError } from '../../api/index.ts';
import type { ServerFeatures } from './discovery.ts';
import { equals, type FilterChoice } from './filter.ts';
import type { ScimHttp } from './http.ts';
import { listAll } from './paging.ts';
import { GROUP_SCHEMA, PATCH_OP_SCHEMA, type ScimGroup } from './schema.ts';

/** Tries of a GET + PUT whose If-Match was stale (412) before the change is left to the next pass. */
const MAX_STALE_WRITES = 5;

type Member = { value: string };

export class GroupDirectory {
  readonly #http: ScimHttp;
  readonly #system: string;
  readonly #features: () => ServerFeatures & { pageSize: number };
  readonly #filters: FilterChoice;
  readonly #ids = new Map<string, string>();
  /** One queue of membership writes per group id (kept: a system has few groups, and an idle queue holds nothing). */
  readonly #queues = new Map<string, PQueue>();
  /** How the server compares displayNames (ScimConnector sets it from discovery); exact until then. */
  nameKey: (displayName: string) => string = (displayName) => displayName;

  constructor(http: ScimHttp, system: string, features: () => ServerFeatures & { pageSize: number }, filters: FilterChoice) {
    this.#http = http;
    this.#system = system;
    this.#features = features;
    this.#filters = filters;
  }

  /** The id of the group named `displayName`; a PermanentError when there is none. */
  async idOf(displayName: string, signal: AbortSignal): Promise<string> {
    const cached = this.#ids.get(displayName);
    if (cached) return cached;
    const what = `look up group "${displayName}"`;
    const wanted = this.nameKey(displayName);
    const groups = await this.#search(equals('displayName', displayName), what, signal);
    const exact = groups.find((group) => group.displayName === displayName);
    // Not caseExact: the group the server holds under another spelling is the one declared.
    const alike = groups.filter((group) => this.nameKey(group.displayName) === wanted);
    const found = exact ?? (alike.length === 1 ? alike[0] : undefined);
    if (found) {
      this.#ids.set(displayName, found.id);
      return found.id;
    }
    if (alike.length > 1) {
      throw new PermanentError(
        `SCIM group "${displayName}" of ${this.#system} is ambiguous: ${alike.map((g) => JSON.stringify(g.displayName)).join(', ')} all match it; rename all but one there`,
      );
    }
    throw new PermanentError(`SCIM group "${displayName}" does not exist in ${this.#system}: create it there, or correct the AccessRole that grants it`);
  }

  /** displayNames of the groups the user is a member of, sorted. */
  async namesOf(userId: string, signal: AbortSignal): Promise<string[]> {
    if (this.#filters.usable('members.value eq')) {
      const query = { filter: equals('members.value', userId), attributes: 'displayName' };
      const found = await listAll<ScimGroup>(
        this.#http,
        { endpoint: 'Groups', query, pageSize: this.#features().pageSize, what: 'read group memberships', refusable: true },
        signal,
      );
      if (found !== 'refused') {
        for (const group of found) this.#ids.set(group.displayName, group.id);
        return sortedUnique(found.map((group) => group.displayName));
      }
      this.#filters.refused('members.value eq');
    }
    return (await this.membershipsByUser(signal)).get(userId) ?? [];
  }

  /** Every group's members at once, for listing all accounts without one search per user. */
  async membershipsByUser(signal: AbortSignal): Promise<Map<string, string[]>> {
    const byUser = new Map<string, string[]>();
    const query = { attributes: 'displayName,members' };
    const groups = (await listAll<ScimGroup>(
      this.#http,
      { endpoint: 'Groups', query, pageSize: this.#features().pageSize, what: 'list groups' },
      signal,
    )) as ScimGroup[];
    for (const group of groups) {
      this.#ids.set(group.displayName, group.id);
      for (const member of group.members ?? []) byUser.set(member.value, [...(byUser.get(member.value) ?? []), group.displayName]);
    }
    for (const [user, names] of byUser) byUser.set(user, sortedUnique(names));
    return byUser;
  }

  /** Adds the member; false when it already was one (nothing written). */
  async addMember(displayName: string, userId: string, signal: AbortSignal): Promise<boolean> {
    const op = { op: 'add' as const, path: 'members', value: [{ value: userId }] };
    return this.#change(displayName, op, (members) => (members.some((m) => m.value === userId) ? undefined : [...members, { value: userId }]), signal);
  }

  /** Removes the member; false when it was none (nothing written). */
  async removeMember(displayName: string, userId: string, signal: AbortSignal): Promise<boolean> {
    // Without filtered paths, a PATCH remove of `members` would remove every member: GET + PUT instead.
    const op = this.#features().filteredPaths ? { op: 'remove' as const, path: `members[${equals('value', userId)}]` } : undefined;
    return this.#change(
      displayName,
      op,
      (members) => (members.some((m) => m.value === userId) ? members.filter((m) => m.value !== userId) : undefined),
      signal,
    );
  }

  /**
   * One membership change, queued behind the others to the same group: a PATCH `operation`, or a
   * GET + PUT of the members `edit` returns (undefined: already as wanted, nothing written).
   */
  async #change(
    displayName: string,
    operation: { op: 'add' | 'remove'; path: string; value?: unknown } | undefined,
    edit: (members: Member[]) => Member[] | undefined,
    signal: AbortSignal,
  ): Promise<boolean> {
    const id = await this.idOf(displayName, signal);
    let queue = this.#queues.get(id);
    if (!queue) this.#queues.set(id, (queue = new PQueue({ concurrency: 1 })));
    // No signal for the queue itself: a write waiting its turn that is aborted fails in its own request, as a RetryableError.
    const written = await queue.add(() => this.#write(id, displayName, operation, edit, signal));
    if (written === undefined) {
      // Deleted (and perhaps recreated) since it was cached: look it up afresh next time.
      this.#ids.delete(displayName);
      throw new RetryableError(`SCIM group "${displayName}" vanished from ${this.#system} while being changed; it will be looked up again`);
    }
    return written;
  }

  /** true: written; false: nothing to write; undefined: the group is gone (404). */
  async #write(
    id: string,
    displayName: string,
    operation: { op: 'add' | 'remove'; path: string; value?: unknown } | undefined,
    edit: (members: Member[]) => Member[] | undefined,
    signal: AbortSignal,
  ): Promise<boolean | undefined> {
    const what = `change the members of group "${displayName}"`;
    const { patch, etags } = this.#features();
    if (patch && operation) {
      const body = { schemas: [PATCH_OP_SCHEMA], Operations: [operation] };
      const { status } = await this.#http.send({ method: 'PATCH', path: ['Groups', id], body, what }, signal, [404]);
      return status === 404 ? undefined : true;
    }
    for (let attempt = 1; attempt <= MAX_STALE_WRITES; attempt++) {
      const current = await this.#http.send({ method: 'GET', path: ['Groups', id], what }, signal, [404]);
      if (current.status === 404) return undefined;
      const group = current.body as ScimGroup;
      const members = edit((group.members ?? []).map((m) => ({ value: m.value })));
      if (members === undefined) return false;
      const ifMatch = etags ? current.version : undefined;
      const body = { schemas: [GROUP_SCHEMA], id, displayName: group.displayName, members };
      const { status } = await this.#http.send({ method: 'PUT', path: ['Groups', id], body, what, ...(ifMatch && { ifMatch }) }, signal, [404, 412]);
      if (status === 404) return undefined;
      if (status !== 412) return true;
      // Changed by someone else since the GET: read it again, so their change is kept too.
    }
    throw new RetryableError(
      `SCIM ${what} on ${this.#system}: the group kept changing between reading and writing it (HTTP 412, ${MAX_STALE_WRITES} times); retrying later`,
    );
  }

  /**
   * The groups the displayName filter finds, or every group when the server does not take it. A
   * filter finding none on a server that compares displayName without case (its /Schemas) may
   * have compared with case (SCIMMY does): then every group is read and compared here.
   */
  async #search(filter: string, what: string, signal: AbortSignal): Promise<ScimGroup[]> {
    const pageSize = this.#features().pageSize;
    const query = { attributes: 'displayName' };
    if (this.#filters.usable('displayName eq')) {
      const found = await listAll<ScimGroup>(this.#http, { endpoint: 'Groups', query: { ...query, filter }, pageSize, what, refusable: true }, signal);
      // Found, or none where the server compares with case (when it does not, some filters still do: look at every group).
      if (found !== 'refused' && (found.length > 0 || this.#features().groupNamesCaseExact)) return found;
      if (found === 'refused') this.#filters.refused('displayName eq');
    }
    return (await listAll<ScimGroup>(this.#http, { endpoint: 'Groups', query, pageSize, what }, signal)) as ScimGroup[];
  }
}

function sortedUnique(names: string[]): string[] {
  return [...new Set(names)].sort();
}
