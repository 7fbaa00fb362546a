// slapd read and written as cn=admin: entries under the scope's people OU, memberships in its groups OU.
import { Attribute, Change, Client, type Entry } from 'ldapts';
import { EMPTY_GROUP_PLACEHOLDER } from '../../../src/connectors/ldap/index.ts';
import { escapeFilterValue } from '../../../src/connectors/ldap/escape.ts';
import { ldapGroupsOu, ldapMarker, ldapPeopleOu, type AccountView, type Endpoints, type Scope } from '../world.ts';
import type { SystemProbe } from './types.ts';

const PAGE = { pageSize: 1000 };

export class LdapProbe implements SystemProbe {
  readonly kind = 'ldap';
  readonly #endpoint: Endpoints['ldap'];
  readonly #peopleDN: string;
  readonly #groupsDN: string;
  readonly #marker: string;
  #client: Promise<Client> | undefined;

  constructor(endpoint: Endpoints['ldap'], scope: Scope) {
    this.#endpoint = endpoint;
    this.#peopleDN = `ou=${ldapPeopleOu(scope)},${endpoint.suffix}`;
    this.#marker = ldapMarker(scope);
    this.#groupsDN = `ou=${ldapGroupsOu(scope)},${endpoint.suffix}`;
  }

  userDN(userName: string): string {
    return `uid=${userName},${this.#peopleDN}`;
  }

  groupDN(group: string): string {
    return `cn=${group},${this.#groupsDN}`;
  }

  async prepare(groups: string[]): Promise<void> {
    const client = await this.#bound();
    for (const dn of [this.#peopleDN, this.#groupsDN]) {
      await client.add(dn, { objectClass: 'organizationalUnit', ou: dn.slice(3, dn.indexOf(',')) });
    }
    for (const cn of groups) await client.add(this.groupDN(cn), { objectClass: 'groupOfNames', cn, member: EMPTY_GROUP_PLACEHOLDER });
  }

  async accounts(): Promise<Map<string, AccountView>> {
    const client = await this.#bound();
    const [{ searchEntries: people }, { searchEntries: groups }] = await Promise.all([
      client.search(this.#peopleDN, {
        scope: 'one',
        filter: `(businessCategory=${escapeFilterValue(this.#marker)})`,
        attributes: ['uid', 'pwdAccountLockedTime'],
        paged: PAGE,
      }),
      client.search(this.#groupsDN, { scope: 'one', filter: '(objectClass=groupOfNames)', attributes: ['cn', 'member'] }),
    ]);
    const out = new Map<string, AccountView>();
    for (const entry of people) out.set(String(entry['uid']), { enabled: list(entry, 'pwdAccountLockedTime').length === 0, groups: [] });
    for (const group of groups) {
      for (const member of list(group, 'member')) {
        const account = out.get(this.#uidOf(member) ?? '');
        account?.groups.push(String(group['cn']));
      }
    }
    for (const account of out.values()) account.groups.sort();
    return out;
  }

  async disabled(userNames: string[]): Promise<Set<string>> {
    const client = await this.#bound();
    if (userNames.length === 1) {
      const { searchEntries } = await client
        .search(this.userDN(userNames[0]!), { scope: 'base', attributes: ['pwdAccountLockedTime'] })
        .catch(() => ({ searchEntries: [] as Entry[] }));
      return searchEntries[0] && list(searchEntries[0], 'pwdAccountLockedTime').length === 0 ? new Set() : new Set(userNames);
    }
    // Only the names asked about, by the indexed uid: a filter on pwdAccountLockedTime alone (not
    // indexed) made slapd read all 10,000 entries on every poll, load beside the one being measured.
    const names = userNames.map((name) => `(uid=${escapeFilterValue(name)})`).join('');
    const filter = `(&(pwdAccountLockedTime=*)(|${names}))`;
    const { searchEntries } = await client.search(this.#peopleDN, { scope: 'one', filter, attributes: ['uid'], paged: PAGE });
    const locked = new Set(searchEntries.map((e) => String(e['uid'])));
    return new Set(userNames.filter((name) => locked.has(name)));
  }

  async members(group: string): Promise<Set<string>> {
    const client = await this.#bound();
    const { searchEntries } = await client.search(this.groupDN(group), { scope: 'base', attributes: ['member'] });
    return new Set(
      list(searchEntries[0]!, 'member')
        .map((dn) => this.#uidOf(dn))
        .filter((uid): uid is string => uid !== undefined),
    );
  }

  async versions(): Promise<Map<string, string>> {
    const client = await this.#bound();
    const out = new Map<string, string>();
    for (const base of [this.#peopleDN, this.#groupsDN]) {
      const { searchEntries } = await client.search(base, { scope: 'sub', attributes: ['entryCSN'], paged: PAGE });
      for (const entry of searchEntries) out.set(entry.dn, String(entry['entryCSN']));
    }
    return out;
  }

  async grantByHand(userName: string, group: string): Promise<void> {
    const client = await this.#bound();
    await client.modify(
      this.groupDN(group),
      new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [this.userDN(userName)] }) }),
    );
  }

  async close(): Promise<void> {
    const client = await this.#client?.catch(() => undefined);
    this.#client = undefined;
    await client?.unbind().catch(() => undefined);
  }

  #uidOf(dn: string): string | undefined {
    const match = /^uid=([^,]+),(.*)$/i.exec(dn);
    return match && match[2]!.toLowerCase() === this.#peopleDN.toLowerCase() ? match[1]! : undefined;
  }

  #bound(): Promise<Client> {
    this.#client ??= (async () => {
      const client = new Client({ url: this.#endpoint.url, timeout: 60_000, connectTimeout: 5000 });
      await client.bind(this.#endpoint.adminDN, this.#endpoint.adminPassword);
      return client;
    })();
    return this.#client;
  }
}

function list(entry: Entry, attribute: string): string[] {
  return [entry[attribute] ?? []].flat().map(String);
}
