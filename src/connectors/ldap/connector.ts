// The LDAP connector: observes and applies account changes under peopleDN and group memberships
// under groupsDN, for OpenLDAP (ppolicy locking) and Active Directory (userAccountControl).
import { AlreadyExistsError, Attribute, Change, NoSuchObjectError, ResultCodeError, type Client, type Entry } from 'ldapts';
import type { Logger } from 'pino';
import { PermanentError, type AccountChange, type Capabilities, type DesiredAccount, type ObservedAccount } from '../../api/index.ts';
import type { Connector } from '../types.ts';
import { attributesToRead, findAny, findManaged, managedFilter, memberOf, ownerOf, toObservedAccount, userDN, userNameOf } from './accounts.ts';
import { normalizeDN } from './dn.ts';
import { GroupWrites } from './group-writes.ts';
import { allMemberships, entriesListGroups, groupsFromMemberOf, groupsOf, groupTarget, memberValue, type Member } from './groups.ts';
import { attributeChanges, completeAttributes, newEntryAttributes } from './modifications.ts';
import { Recent } from '../recent.ts';
import { LdapSession } from './session.ts';
import { directoryChangeToken } from './change-token.ts';
import { unknownPassword } from './flavours.ts';
import { withRefusedAttributes } from './errors.ts';
import type { LdapSettings } from './settings.ts';
import { ldapComparison } from './matching.ts';

const PAGE_SIZE = 500;

type MembershipChange = Extract<AccountChange, { op: 'grant' | 'revoke' }>;

export class LdapConnector implements Connector {
  readonly capabilities: Capabilities;
  readonly #settings: LdapSettings;
  readonly #session: LdapSession;
  readonly #logger: Logger;
  /** DN of each managed entry created, read or listed a moment ago, by user name: its grants need no search. */
  readonly #seen = new Recent<string>();
  readonly #groups = new GroupWrites();

  constructor(settings: LdapSettings, logger: Logger) {
    this.#settings = settings;
    this.#session = new LdapSession(settings.session);
    this.#logger = logger;
    this.capabilities = {
      disable: true,
      entitlements: true,
      attributes: [...settings.attributeMap.keys()],
      comparison: ldapComparison(settings),
      // A disable scrambles the password (see #disable); a create sets a first one that must be changed.
      endsSessions: true,
      initialPassword: true,
    };
  }

  async check(signal: AbortSignal): Promise<void> {
    const { peopleDN, groupsDN } = this.#settings;
    await this.#session.run('check', signal, async (client) => {
      await client.search(peopleDN, { scope: 'base', attributes: ['1.1'] });
      await client.search(groupsDN, { scope: 'base', attributes: ['1.1'] });
    });
  }

  changeToken(signal: AbortSignal): Promise<string | undefined> {
    return this.#session.run("read the directory's change token", signal, (client) => directoryChangeToken(client, this.#settings));
  }

  async *listAccounts(signal: AbortSignal): AsyncIterable<ObservedAccount> {
    const settings = this.#settings;
    const membershipsOf = entriesListGroups(settings)
      ? (entry: Entry) => groupsFromMemberOf(settings, entry)
      : await this.#session.run('list groups', signal, async (client) => {
          const groupsOfMember = await allMemberships(client, settings);
          return (entry: Entry) => groupsOfMember(memberOf(settings, entry));
        });
    let pages: AsyncGenerator<{ searchEntries: Entry[] }> | undefined;
    // One timeout per page, not for the whole listing, so a large directory is not cut short.
    for (;;) {
      const page = await this.#session.run('list accounts', signal, async (client) => {
        pages ??= client.searchPaginated(settings.peopleDN, {
          scope: 'one',
          filter: managedFilter(settings),
          attributes: attributesToRead(settings),
          paged: { pageSize: PAGE_SIZE },
        });
        return pages.next();
      });
      if (page.done) return;
      for (const entry of page.value.searchEntries) {
        const userName = userNameOf(settings, entry);
        if (userName !== undefined) this.#seen.set(userName, entry.dn);
        yield toObservedAccount(settings, entry, membershipsOf(entry));
      }
    }
  }

  async *listUserNames(signal: AbortSignal): AsyncIterable<string> {
    const settings = this.#settings;
    const attribute = settings.flavour.userNameAttribute;
    let pages: AsyncGenerator<{ searchEntries: Entry[] }> | undefined;
    for (;;) {
      const page = await this.#session.run('list user names', signal, async (client) => {
        // Only the name: a directory's every entry, a page at a time, without their attributes.
        pages ??= client.searchPaginated(settings.peopleDN, {
          scope: 'one',
          filter: `(${attribute}=*)`,
          attributes: [attribute],
          paged: { pageSize: PAGE_SIZE },
        });
        return pages.next();
      });
      if (page.done) return;
      for (const entry of page.value.searchEntries) {
        // The value getAccount compares (findAny): the first.
        const userName = userNameOf(settings, entry);
        if (userName !== undefined) yield userName;
      }
    }
  }

  async getAccount(userName: string, signal: AbortSignal): Promise<ObservedAccount | undefined> {
    const settings = this.#settings;
    return this.#session.run('read account', signal, async (client) => {
      const found = await this.#read(client, userName);
      if (!found) return undefined;
      const owner = ownerOf(settings, found.entry);
      if (owner === undefined) return toObservedAccount(settings, found.entry, found.groups);
      // Not ours: say whose it is, so the engine can adopt it or report a conflict.
      return { ...toObservedAccount(settings, found.entry, found.groups), owner };
    });
  }

  async apply(change: AccountChange, signal: AbortSignal): Promise<void> {
    await this.#session
      .run(change.op, signal, (client) => this.#apply(client, change))
      .catch((error: unknown) => {
        throw withRefusedAttributes(error, this.#settings.attributeMap);
      });
    this.#logger.debug(
      { system: this.#settings.system, op: change.op, userName: 'account' in change ? change.account.userName : change.userName },
      'LDAP change applied',
    );
  }

  async close(): Promise<void> {
    await this.#session.close();
  }

  /**
   * The entry of `userName`, whoever's (this system's first), and its groups: one search of the
   * entry and, without memberOf on the entries, one of the groups, at the same time under the DN
   * Rollcall gives the entry, and again only if it lives elsewhere.
   */
  async #read(client: Client, userName: string): Promise<{ entry: Entry; groups: string[] } | undefined> {
    const settings = this.#settings;
    if (entriesListGroups(settings)) {
      const entry = await this.#findAny(client, userName);
      return entry && { entry, groups: groupsFromMemberOf(settings, entry) };
    }
    const named: Member = { dn: userDN(settings, userName), userName };
    const [entry, groups] = await Promise.all([this.#findAny(client, userName), groupsOf(client, settings, named)]);
    if (!entry) return undefined;
    const member = memberOf(settings, entry);
    const sameValue = settings.groupType === 'posixGroup' || normalizeDN(member.dn) === normalizeDN(named.dn);
    return { entry, groups: sameValue ? groups : await groupsOf(client, settings, member) };
  }

  /** The entry of `userName`, whoever's; where it is ours, its grants need no search. */
  async #findAny(client: Client, userName: string): Promise<Entry | undefined> {
    const entry = await findAny(client, this.#settings, userName);
    if (entry && ownerOf(this.#settings, entry) === undefined) this.#seen.set(userName, entry.dn);
    else this.#seen.delete(userName);
    return entry;
  }

  async #findManaged(client: Client, userName: string): Promise<Entry | undefined> {
    const entry = await findManaged(client, this.#settings, userName);
    if (entry) this.#seen.set(userName, entry.dn);
    else this.#seen.delete(userName);
    return entry;
  }

  #missing(userName: string): PermanentError {
    return new PermanentError(`${this.#settings.system} has no account "${userName}" managed by Rollcall`);
  }

  async #apply(client: Client, change: AccountChange): Promise<void> {
    const settings = this.#settings;
    if (change.op === 'create') return this.#create(client, change.account, change.initialPassword);
    if (change.op === 'grant' || change.op === 'revoke') return this.#changeMembership(client, change);
    if (change.op === 'adopt') return this.#adopt(client, change.userName);
    const entry = await this.#findManaged(client, change.userName);
    switch (change.op) {
      case 'update':
        if (!entry) throw this.#missing(change.userName);
        return modify(client, entry, attributeChanges(settings, change.userName, entry, change.attributes));
      case 'disable':
        // An account that is not ours is left alone; one that is gone is as disabled as it gets.
        if (!entry) return;
        return this.#disable(client, entry);
      case 'enable':
        if (!entry) throw this.#missing(change.userName);
        return modify(client, entry, settings.flavour.enable(entry));
      case 'delete':
        if (!entry) return;
        return this.#delete(client, entry, change.userName);
    }
  }

  /**
   * Locks the entry and scrambles its password, so a password cached in a client or shared with a
   * colleague stops working at once, and still does not work after a re-enable. Scrambled on every
   * disable, so a retry after a half-finished one still ends it; the lock is written after the
   * scramble where a password change lifts it (OpenLDAP's ppolicy).
   */
  async #disable(client: Client, entry: Entry): Promise<void> {
    const { flavour } = this.#settings;
    await modify(client, entry, flavour.setPassword(unknownPassword(), false));
    if (flavour.previousPasswordLingers) await modify(client, entry, flavour.setPassword(unknownPassword(), false));
    await modify(client, entry, flavour.disable(flavour.passwordChangeUnlocks ? { dn: entry.dn } : entry));
  }

  /** Marks a legacy-marked or unmanaged entry as this system's; another system's is refused. */
  async #adopt(client: Client, userName: string): Promise<void> {
    const settings = this.#settings;
    const entry = await findAny(client, settings, userName);
    if (!entry) throw new PermanentError(`${settings.system}: no entry for "${userName}" under ${settings.peopleDN} to adopt`);
    const owner = ownerOf(settings, entry);
    if (owner === undefined) return;
    if (owner === 'foreign')
      throw new PermanentError(`${settings.system}: ${entry.dn} belongs to another ConnectedSystem (${settings.flavour.marker.attribute}); it is not adopted`);
    const { attribute, legacyValue, multiValued } = settings.flavour.marker;
    const changes =
      owner === 'legacy' && multiValued
        ? [
            new Change({ operation: 'delete', modification: new Attribute({ type: attribute, values: [legacyValue] }) }),
            new Change({ operation: 'add', modification: new Attribute({ type: attribute, values: [settings.marker] }) }),
          ]
        : [new Change({ operation: multiValued ? 'add' : 'replace', modification: new Attribute({ type: attribute, values: [settings.marker] }) })];
    await client.modify(entry.dn, changes);
    this.#seen.set(userName, entry.dn);
  }

  /** Adds the entry in one operation; only when the server refuses is there anything to read. */
  async #create(client: Client, account: DesiredAccount, initialPassword?: string): Promise<void> {
    const settings = this.#settings;
    const { userName } = account;
    if (account.state === 'absent') throw new PermanentError(`create of "${userName}" on ${settings.system} asks for an absent account`);
    const wanted = completeAttributes(settings, account.attributes);
    const dn = userDN(settings, userName);
    try {
      await client.add(dn, newEntryAttributes(settings, userName, wanted, initialPassword));
    } catch (error) {
      if (!(error instanceof ResultCodeError)) throw error;
      // Most often the entry is there already: converge it if it is ours, writing only what differs.
      const entry = await this.#findManaged(client, userName);
      if (!entry && error instanceof AlreadyExistsError) {
        throw new PermanentError(
          `${settings.system}: ${dn} already exists but is not managed by Rollcall (no ${settings.flavour.marker.attribute} marker); it is left alone`,
        );
      }
      if (!entry) throw error;
      await modify(client, entry, attributeChanges(settings, userName, entry, wanted));
      // The retry of a create whose answer was lost carries the same delivered password: set it again.
      if (initialPassword !== undefined) await modify(client, entry, settings.flavour.setPassword(initialPassword, true));
      if (account.state === 'disabled') await modify(client, entry, settings.flavour.disable(entry));
      return;
    }
    this.#seen.set(userName, dn);
    // A new entry holds no state attributes yet, so the disabling modification follows from its DN alone.
    if (account.state === 'disabled') await modify(client, { dn }, settings.flavour.disable({ dn }));
  }

  /** One modify of the group, with the DN of the entry seen a moment ago, or searched for. */
  async #changeMembership(client: Client, change: MembershipChange): Promise<void> {
    const seen = this.#seen.get(change.userName);
    if (seen !== undefined) {
      try {
        return await this.#writeMembership(client, change, seen);
      } catch (error) {
        if (!(error instanceof ResultCodeError)) throw error;
        // The entry may have gone or moved since it was seen: look again, and fail only if it still fails.
      }
    }
    const entry = await this.#findManaged(client, change.userName);
    // Nothing to revoke from an account that is not there (or not ours).
    if (!entry && change.op === 'revoke') return;
    if (!entry) throw this.#missing(change.userName);
    await this.#writeMembership(client, change, entry.dn);
  }

  #writeMembership(client: Client, change: MembershipChange, dn: string): Promise<void> {
    const settings = this.#settings;
    const group = groupTarget(settings, change.entitlement);
    const value = memberValue(settings, { dn, userName: change.userName });
    return change.op === 'grant' ? this.#groups.add(client, group, value) : this.#groups.remove(client, group, value);
  }

  /** Leaves its groups first, so each stays valid (placeholder) and posixGroup memberUids do not linger. */
  async #delete(client: Client, entry: Entry, userName: string): Promise<void> {
    const settings = this.#settings;
    const member = memberOf(settings, entry);
    const groups = entriesListGroups(settings) ? groupsFromMemberOf(settings, entry) : await groupsOf(client, settings, member);
    await Promise.all(groups.map((name) => this.#groups.remove(client, groupTarget(settings, name), memberValue(settings, member))));
    try {
      await client.del(entry.dn);
    } catch (error) {
      if (!(error instanceof NoSuchObjectError)) throw error;
    }
    this.#seen.delete(userName);
  }
}

async function modify(client: Client, entry: Pick<Entry, 'dn'>, changes: Change[]): Promise<void> {
  if (changes.length > 0) await client.modify(entry.dn, changes);
}
