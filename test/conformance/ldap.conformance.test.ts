// The shared conformance suite against a real OpenLDAP slapd (ppolicy, memberof, refint).
import { Attribute, Change, Client } from 'ldapts';
import { connectedSystemSpec } from '../../src/api/index.ts';
import { escapeDNValue, escapeFilterValue } from '../../src/connectors/ldap/escape.ts';
import { EMPTY_GROUP_PLACEHOLDER } from '../../src/connectors/ldap/index.ts';
import { connectorFactory } from '../../src/connectors/registry.ts';
import { start, type SlapdServer } from '../servers/slapd.ts';
import { serverControls, type ConformanceTarget } from './harness.ts';
import { bindSucceeds, whileBound } from './ldap-binds.ts';
import { describeConformance } from './suite.ts';

/** A new connection to slapd, for one bind. */
const connectionTo = (server: Pick<SlapdServer, 'url'>) => new Client({ url: server.url, timeout: 5000, connectTimeout: 5000 });

function asAdmin<T>(server: SlapdServer, run: (client: Client) => Promise<T>): Promise<T> {
  return whileBound(connectionTo(server), server.adminDN, server.adminPassword, run);
}

/** Whether a new simple bind as `dn` with `password` succeeds now. */
function bindsWith(server: Pick<SlapdServer, 'url'>, dn: string, password: string): Promise<boolean> {
  return bindSucceeds(connectionTo(server), dn, password);
}

async function startTarget(): Promise<ConformanceTarget> {
  const server = await start();
  const userDN = (userName: string) => `uid=${escapeDNValue(userName)},${server.peopleDN}`;
  const userPassword = `user-${crypto.randomUUID()}`;
  const badPassword = `wrong-${crypto.randomUUID()}`;
  const foreign = new Map<string, string>();

  /** Everything the server holds about an entry, operational attributes included. */
  const snapshot = (userName: string) =>
    asAdmin(server, async (client) => {
      const { searchEntries } = await client.search(server.peopleDN, { scope: 'one', filter: `(uid=${escapeFilterValue(userName)})`, attributes: ['*', '+'] });
      return searchEntries[0] && JSON.stringify(searchEntries[0]);
    });

  return {
    connect: async ({ logger, credentials, timeoutMs }) => {
      const factory = await connectorFactory('ldap');
      const spec = connectedSystemSpec.parse({
        type: 'ldap',
        insecure: true, // plaintext to the local slapd; TLS is proven in safe-defaults.conformance.test.ts
        allowPrivateNetwork: true,
        ldap: { url: server.url, peopleDN: server.peopleDN, groupsDN: server.groupsDN },
      });
      return factory({
        system: 'conformance/ldap',
        namespace: 'conformance',
        spec,
        credentials: credentials ?? { bindDN: server.adminDN, password: server.adminPassword },
        logger,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
    },
    entitlements: ['engineering', 'vpn-users'],
    // What slapd 2.5 really does with cn (caseIgnoreMatch): see src/connectors/ldap/matching.ts.
    spellings: {
      createEntitlement: (name) =>
        asAdmin(server, (client) =>
          client.add(`cn=${escapeDNValue(name)},${server.groupsDN}`, { objectClass: 'groupOfNames', cn: name, member: EMPTY_GROUP_PLACEHOLDER }),
        ),
      held: '\u00c9quipe Platform',
      alike: [
        '\u00e9quipe platform',
        'E\u0301QUIPE   PLATFORM',
        ' \uff45\u0301quipe\u00a0platform ',
        '\u00e9quipe \uff50\uff4c\uff41\uff54\uff46\uff4f\uff52\uff4d',
      ],
      ambiguous: ['Engineering', 'engineering'],
      distinct: ['stra\u00dfe', 'STRASSE'],
    },
    attribute: 'displayName',
    canLogin: async (userName) => {
      // Set the password only on an entry that is not locked: slapd's ppolicy clears
      // pwdAccountLockedTime whenever a password is changed, so setting it on a locked entry would
      // itself re-enable the account. A disable scrambles the password, so after a re-enable the
      // probe's password is set again, as a helpdesk would.
      const exists = await asAdmin(server, async (client) => {
        const { searchEntries } = await client.search(server.peopleDN, {
          scope: 'one',
          filter: `(uid=${escapeFilterValue(userName)})`,
          attributes: ['userPassword', 'pwdAccountLockedTime'],
        });
        const entry = searchEntries[0];
        if (!entry) return false;
        const locked = [entry['pwdAccountLockedTime'] ?? []].flat().length > 0;
        if (!locked && String(entry['userPassword'] ?? '') !== userPassword) {
          await client.modify(entry.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [userPassword] }) }));
        }
        return true;
      });
      if (!exists) return false;
      return bindsWith(server, userDN(userName), userPassword);
    },
    sessions: {
      setPassword: (userName, password) =>
        asAdmin(server, (client) =>
          client.modify(userDN(userName), new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [password] }) })),
        ),
      // A bound connection outlives a lock; what a leaver keeps is the password: alive while it binds.
      open: async (userName, password) => {
        const binds = () => bindsWith(server, userDN(userName), password);
        if (!(await binds())) throw new Error(`${userName} cannot bind with the password just set`);
        return { alive: binds, close: async () => undefined };
      },
    },
    fingerprint: (userName) =>
      asAdmin(server, async (client) => {
        const { searchEntries } = await client.search(server.peopleDN, {
          scope: 'one',
          filter: `(uid=${escapeFilterValue(userName)})`,
          attributes: ['entryCSN'],
        });
        const entry = searchEntries[0];
        if (!entry) return undefined;
        const groups = await client.search(server.groupsDN, { scope: 'one', filter: `(member=${escapeFilterValue(entry.dn)})`, attributes: ['entryCSN'] });
        return JSON.stringify([entry['entryCSN'], groups.searchEntries.map((g) => g.dn).sort()]);
      }),
    createForeignAccount: async (userName) => {
      await asAdmin(server, (client) =>
        client.add(userDN(userName), { objectClass: ['inetOrgPerson'], uid: userName, cn: 'Foreign Person', sn: 'Person', displayName: 'Foreign' }),
      );
      foreign.set(userName, (await snapshot(userName))!);
    },
    foreignAccountIntact: async (userName) => (await snapshot(userName)) === foreign.get(userName),
    badCredentials: { bindDN: server.adminDN, password: badPassword },
    secrets: [server.adminPassword, badPassword, userPassword],
    ...serverControls(server),
  };
}

describeConformance('ldap', startTarget);
