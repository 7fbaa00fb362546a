// The SCIM server read and written with fetch and the bearer token: Users of the scope (by
// userName prefix) and the scope's Groups (by displayName).
import { allGroups, type AccountView, type Endpoints, type Scope } from '../world.ts';
import type { SystemProbe } from './types.ts';

const PAGE = 1000; // the server's filter.maxResults
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface Resource {
  id: string;
  userName?: string;
  displayName?: string;
  active?: boolean;
  members?: { value: string }[];
  meta?: { version?: string; lastModified?: string };
}

export class ScimProbe implements SystemProbe {
  readonly kind = 'scim';
  readonly #endpoint: Endpoints['scim'];
  readonly #inScope: RegExp;
  readonly #groupNames: Set<string>;
  readonly #groupIds = new Map<string, string>();
  readonly #userIds = new Map<string, string>();
  readonly #userNames = new Map<string, string>();

  constructor(endpoint: Endpoints['scim'], scope: Scope) {
    this.#endpoint = endpoint;
    this.#inScope = new RegExp(`^${scope.tag}\\d{5}$`);
    this.#groupNames = new Set(allGroups(scope));
  }

  async request(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.#endpoint.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.#endpoint.token}`, ...(body !== undefined && { 'content-type': 'application/scim+json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`SCIM ${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  async prepare(groups: string[]): Promise<void> {
    for (const displayName of groups) {
      const created = await this.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName });
      this.#groupIds.set(displayName, String(created.id));
    }
  }

  async #all(resource: 'Users' | 'Groups', attributes: string, filter?: string): Promise<Resource[]> {
    const out: Resource[] = [];
    for (let start = 1; ; start += PAGE) {
      const query = new URLSearchParams({ startIndex: String(start), count: String(PAGE), attributes });
      if (filter) query.set('filter', filter);
      const page = await this.request('GET', `/${resource}?${query}`);
      const resources = (page.Resources as Resource[] | undefined) ?? [];
      out.push(...resources);
      if (resources.length === 0 || out.length >= Number(page.totalResults)) return out;
    }
  }

  async #users(attributes: string, filter?: string): Promise<Resource[]> {
    const users = (await this.#all('Users', `userName,${attributes}`, filter)).filter((u) => this.#inScope.test(u.userName ?? ''));
    for (const user of users) this.#remember(user);
    return users;
  }

  async #groups(attributes: string): Promise<Resource[]> {
    const groups = (await this.#all('Groups', `displayName,${attributes}`)).filter((g) => this.#groupNames.has(g.displayName ?? ''));
    for (const group of groups) this.#groupIds.set(group.displayName!, group.id);
    return groups;
  }

  #remember(user: Resource): void {
    this.#userIds.set(user.userName!, user.id);
    this.#userNames.set(user.id, user.userName!);
  }

  async accounts(): Promise<Map<string, AccountView>> {
    const [users, groups] = await Promise.all([this.#users('active'), this.#groups('members')]);
    const out = new Map<string, AccountView>(users.map((u) => [u.userName!, { enabled: u.active !== false, groups: [] }]));
    for (const group of groups) {
      for (const member of group.members ?? []) out.get(this.#userNames.get(member.value) ?? '')?.groups.push(group.displayName!);
    }
    for (const account of out.values()) account.groups.sort();
    return out;
  }

  async disabled(userNames: string[]): Promise<Set<string>> {
    if (userNames.length <= 3 && userNames.every((name) => this.#userIds.has(name))) {
      const states = await Promise.all(
        userNames.map(async (name) => [name, (await this.request('GET', `/Users/${this.#userIds.get(name)}?attributes=active`)).active] as const),
      );
      return new Set(states.filter(([, active]) => active === false).map(([name]) => name));
    }
    const inactive = new Set((await this.#users('active', 'active eq false')).map((u) => u.userName!));
    return new Set(userNames.filter((name) => inactive.has(name)));
  }

  async members(group: string): Promise<Set<string>> {
    if (!this.#groupIds.has(group)) await this.#groups('members');
    const found = await this.request('GET', `/Groups/${this.#groupIds.get(group)}?attributes=members`);
    const ids = ((found.members as { value: string }[] | undefined) ?? []).map((m) => m.value);
    if (ids.some((id) => !this.#userNames.has(id))) await this.#users('active');
    return new Set(ids.map((id) => this.#userNames.get(id) ?? `unknown id ${id}`));
  }

  async versions(): Promise<Map<string, string>> {
    const [users, groups] = await Promise.all([this.#users('meta'), this.#groups('meta')]);
    return new Map([...users, ...groups].map((r) => [r.userName ?? `group ${r.displayName}`, String(r.meta?.version ?? r.meta?.lastModified)]));
  }

  async grantByHand(userName: string, group: string): Promise<void> {
    if (!this.#userIds.has(userName)) await this.#users('active');
    if (!this.#groupIds.has(group)) await this.#groups('members');
    await this.request('PATCH', `/Groups/${this.#groupIds.get(group)}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'add', path: 'members', value: [{ value: this.#userIds.get(userName) }] }],
    });
  }

  async close(): Promise<void> {}
}
