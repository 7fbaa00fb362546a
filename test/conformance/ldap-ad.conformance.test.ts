// The shared conformance suite against a real Active Directory: Samba's AD DC, over ldaps with
// the CA passed as the credentials Secret's ca.crt, as the lead does for spec.ldap.caSecretRef.
import { Attribute, Change, Client, InvalidCredentialsError } from 'ldapts';
import { connectedSystemSpec } from '../../src/api/index.ts';
import { escapeDNValue, escapeFilterValue } from '../../src/connectors/ldap/escape.ts';
import { connectorFactory } from '../../src/connectors/registry.ts';
import { start, type SambaServer } from '../servers/samba.ts';
import type { ConformanceTarget } from './harness.ts';
import { describeConformance } from './suite.ts';

function client(server: SambaServer): Client {
  return new Client({ url: server.url, timeout: 10_000, connectTimeout: 5000, tlsOptions: { ca: [server.caCert] } });
}

async function asAdmin<T>(server: SambaServer, run: (client: Client) => Promise<T>): Promise<T> {
  const admin = client(server);
  try {
    await admin.bind(server.adminDN, server.adminPassword);
    return await run(admin);
  } finally {
    await admin.unbind().catch(() => undefined);
  }
}

const unicodePwd = (password: string) => Buffer.from(`"${password}"`, 'utf16le');

async function startTarget(): Promise<ConformanceTarget> {
  const server = await start();
  const userPassword = `Rc1!user-${crypto.randomUUID()}`;
  const badPassword = `Rc1!wrong-${crypto.randomUUID()}`;
  const foreign = new Map<string, string>();
  const byName = (userName: string) => `(sAMAccountName=${escapeFilterValue(userName)})`;

  const find = (admin: Client, userName: string, attributes: string[]) =>
    admin.search(server.peopleDN, { scope: 'one', filter: byName(userName), attributes }).then((r) => r.searchEntries[0]);

  const snapshot = (userName: string) => asAdmin(server, async (admin) => JSON.stringify((await find(admin, userName, ['*', 'uSNChanged'])) ?? null));

  return {
    connect: async ({ logger, credentials, timeoutMs }) => {
      const factory = await connectorFactory('ldap');
      const spec = connectedSystemSpec.parse({
        type: 'ldap',
        ldap: { url: server.url, flavour: 'activeDirectory', caSecretRef: { name: 'samba-ca' }, peopleDN: server.peopleDN, groupsDN: server.groupsDN },
      });
      return factory({
        system: 'conformance/ldap-ad',
        namespace: 'conformance',
        spec,
        credentials: credentials ?? { bindDN: server.adminDN, password: server.adminPassword, 'ca.crt': server.caCert },
        logger,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
    },
    entitlements: ['engineering', 'vpn-users'],
    attribute: 'displayName',
    canLogin: async (userName) => {
      // An administrator's password reset, as a helpdesk would do it; it leaves userAccountControl alone.
      const dn = await asAdmin(server, async (admin) => {
        const entry = await find(admin, userName, ['1.1']);
        if (!entry) return undefined;
        await admin.modify(entry.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [unicodePwd(userPassword)] }) }));
        return entry.dn;
      });
      if (!dn) return false;
      const user = client(server);
      try {
        await user.bind(dn, userPassword);
        return true;
      } catch (error) {
        if (error instanceof InvalidCredentialsError) return false;
        throw error;
      } finally {
        await user.unbind().catch(() => undefined);
      }
    },
    fingerprint: (userName) =>
      asAdmin(server, async (admin) => {
        const entry = await find(admin, userName, ['uSNChanged']);
        if (!entry) return undefined;
        const groups = await admin.search(server.groupsDN, { scope: 'one', filter: `(member=${escapeFilterValue(entry.dn)})`, attributes: ['1.1'] });
        return JSON.stringify([entry['uSNChanged'], groups.searchEntries.map((g) => g.dn).sort()]);
      }),
    createForeignAccount: async (userName) => {
      await asAdmin(server, (admin) =>
        admin.add(`CN=${escapeDNValue(userName)},${server.peopleDN}`, {
          objectClass: ['top', 'person', 'organizationalPerson', 'user'],
          sAMAccountName: userName,
          displayName: 'Foreign',
          userAccountControl: '514',
        }),
      );
      foreign.set(userName, await snapshot(userName));
    },
    foreignAccountIntact: async (userName) => (await snapshot(userName)) === foreign.get(userName),
    badCredentials: { bindDN: server.adminDN, password: badPassword, 'ca.crt': server.caCert },
    secrets: [server.adminPassword, badPassword, userPassword],
    stopServer: () => server.stop(),
    startServer: () => server.restart(),
    freezeServer: async () => server.freeze(),
    thawServer: async () => server.thaw(),
    close: () => server.close(),
  };
}

describeConformance('ldap (Active Directory)', startTarget);
