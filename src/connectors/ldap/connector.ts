// The LDAP connector: observes and applies account changes under peopleDN and group memberships
// under groupsDN, for OpenLDAP (ppolicy locking) and Active Directory (userAccountControl).
import { AlreadyExistsError, NoSuchObjectError, type Change, type Client, type Entry } from 'ldapts';
import type { Logger } from 'pino';
import { PermanentError, type AccountChange, type Capabilities, type DesiredAccount, type ObservedAccount } from '../../api/index.ts';
import type { Connector } from '../types.ts';
import { attributesToRead, findManaged, managedFilter, memberOf, toObservedAccount, userDN } from './accounts.ts';
import { addMember, allMemberships, groupsOf, removeMember } from './groups.ts';
import { attributeChanges, completeAttributes, newEntryAttributes } from './modifications.ts';
import { LdapSession } from './session.ts';
import type { LdapSettings } from './settings.ts';

const PAGE_SIZE = 500;

export class LdapConnector implements Connector {
  readonly capabilities: Capabilities;
  readonly #settings: LdapSettings;
  readonly #session: LdapSession;
  readonly #logger: Logger;

  constructor(settings: LdapSettings, logger: Logger) {
    this.#settings = settings;
    this.#session = new LdapSession(settings.session);
    this.#logger = logger;
    this.capabilities = { disable: true, entitlements: true, attributes: Object.keys(settings.attributeMap) };
  }

  async check(signal: AbortSignal): Promise<void> {
    const { peopleDN, groupsDN } = this.#settings;
    await this.#session.run('check', signal, async (client) => {
      await client.search(peopleDN, { scope: 'base', attributes: ['1.1'] });
      await client.search(groupsDN, { scope: 'base', attributes: ['1.1'] });
    });
  }

  async *listAccounts(signal: AbortSignal): AsyncIterable<ObservedAccount> {
    const settings = this.#settings;
    const membershipsOf = await this.#session.run('list groups', signal, (client) => allMemberships(client, settings));
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
      for (const entry of page.value.searchEntries) yield toObservedAccount(settings, entry, membershipsOf(memberOf(settings, entry)));
    }
  }

  async getAccount(userName: string, signal: AbortSignal): Promise<ObservedAccount | undefined> {
    const settings = this.#settings;
    return this.#session.run('read account', signal, async (client) => {
      const entry = await findManaged(client, settings, userName);
      return entry && toObservedAccount(settings, entry, await groupsOf(client, settings, memberOf(settings, entry)));
    });
  }

  async apply(change: AccountChange, signal: AbortSignal): Promise<void> {
    await this.#session.run(change.op, signal, (client) => this.#apply(client, change));
    this.#logger.debug({ system: this.#settings.system, op: change.op, userName: 'account' in change ? change.account.userName : change.userName }, 'LDAP change applied');
  }

  async close(): Promise<void> {
    await this.#session.close();
  }

  async #apply(client: Client, change: AccountChange): Promise<void> {
    const settings = this.#settings;
    if (change.op === 'create') return this.#create(client, change.account);
    const entry = await findManaged(client, settings, change.userName);
    const missing = () => new PermanentError(`${settings.system} has no account "${change.userName}" managed by Rollcall`);
    switch (change.op) {
      case 'update': {
        if (!entry) throw missing();
        return modify(client, entry, attributeChanges(settings, change.userName, entry, change.attributes));
      }
      case 'grant':
        if (!entry) throw missing();
        return addMember(client, settings, change.entitlement, memberOf(settings, entry));
      case 'revoke':
        // Nothing to revoke from an account that is not there (or not ours).
        if (!entry) return;
        return removeMember(client, settings, change.entitlement, memberOf(settings, entry));
      case 'disable':
        // An account that is not ours is left alone; one that is gone is as disabled as it gets.
        if (!entry) return;
        return modify(client, entry, settings.flavour.disable(entry));
      case 'enable':
        if (!entry) throw missing();
        return modify(client, entry, settings.flavour.enable(entry));
      case 'delete':
        if (!entry) return;
        return this.#delete(client, entry);
    }
  }

  async #create(client: Client, account: DesiredAccount): Promise<void> {
    const settings = this.#settings;
    if (account.state === 'absent') throw new PermanentError(`create of "${account.userName}" on ${settings.system} asks for an absent account`);
    const wanted = completeAttributes(settings, account.attributes);
    let entry = await findManaged(client, settings, account.userName);
    if (entry) {
      await modify(client, entry, attributeChanges(settings, account.userName, entry, wanted));
    } else {
      const dn = userDN(settings, account.userName);
      try {
        await client.add(dn, newEntryAttributes(settings, account.userName, wanted));
      } catch (error) {
        if (error instanceof AlreadyExistsError) {
          throw new PermanentError(`${settings.system}: ${dn} already exists but is not managed by Rollcall (no ${settings.flavour.marker.attribute} marker); it is left alone`);
        }
        throw error;
      }
      entry = await findManaged(client, settings, account.userName);
    }
    if (account.state === 'disabled' && entry) await modify(client, entry, settings.flavour.disable(entry));
  }

  /** Leaves its groups first, so each stays valid (placeholder) and posixGroup memberUids do not linger. */
  async #delete(client: Client, entry: Entry): Promise<void> {
    const settings = this.#settings;
    const member = memberOf(settings, entry);
    for (const group of await groupsOf(client, settings, member)) await removeMember(client, settings, group, member);
    try {
      await client.del(entry.dn);
    } catch (error) {
      if (!(error instanceof NoSuchObjectError)) throw error;
    }
  }
}

async function modify(client: Client, entry: Entry, changes: Change[]): Promise<void> {
  if (changes.length > 0) await client.modify(entry.dn, changes);
}
