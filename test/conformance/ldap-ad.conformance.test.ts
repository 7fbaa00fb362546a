// The shared conformance suite against a real Active Directory: Samba's AD DC, over ldaps with
// the CA passed as the credentials Secret's ca.crt, as the lead does for spec.ldap.caSecretRef.
import { Attribute, Change, Client } from 'ldapts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedSystemSpec } from '../../src/api/index.ts';
import { escapeDNValue, escapeFilterValue } from '../../src/connectors/ldap/escape.ts';
import { connectorFactory } from '../../src/connectors/registry.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { start, type SambaServer } from '../servers/samba.ts';
import { serverControls, type ConformanceTarget } from './harness.ts';
import { bindSucceeds, whileBound } from './ldap-binds.ts';
import { describeConformance } from './suite.ts';

function client(server: SambaServer): Client {
  return new Client({ url: server.url, timeout: 10_000, connectTimeout: 5000, tlsOptions: { ca: [server.caCert] } });
}

function asAdmin<T>(server: SambaServer, run: (client: Client) => Promise<T>): Promise<T> {
  return whileBound(client(server), server.adminDN, server.adminPassword, run);
}

const unicodePwd = (password: string) => Buffer.from(`"${password}"`, 'utf16le');

/** An administrator's password reset, as a helpdesk would do it; it leaves userAccountControl alone. */
const resetPassword = (admin: Client, dn: string, password: string) =>
  admin.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [unicodePwd(password)] }) }));

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
        allowPrivateNetwork: true,
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
      const dn = await asAdmin(server, async (admin) => {
        const entry = await find(admin, userName, ['1.1']);
        if (entry) await resetPassword(admin, entry.dn, userPassword);
        return entry?.dn;
      });
      if (!dn) return false;
      return bindSucceeds(client(server), dn, userPassword);
    },
    sessions: {
      setPassword: (userName, password) => asAdmin(server, async (admin) => resetPassword(admin, (await find(admin, userName, ['1.1']))!.dn, password)),
      // A bound connection outlives a disable; what a leaver keeps is the password: alive while it binds.
      open: async (userName, password) => {
        const dn = await asAdmin(server, async (admin) => (await find(admin, userName, ['1.1']))!.dn);
        const binds = () => bindSucceeds(client(server), dn, password);
        if (!(await binds())) throw new Error(`${userName} cannot bind with the password just set`);
        return { alive: binds, close: async () => undefined };
      },
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
    ...serverControls(server),
  };
}

describeConformance('ldap (Active Directory)', startTarget);

// Runs after the suite above (describes in one file run in order), so one Samba at a time.
describe('ldap connector on Active Directory', () => {
  let server: SambaServer;
  let connector: Connector;

  beforeAll(async () => {
    server = await start();
    connector = await (
      await connectorFactory('ldap')
    )({
      system: 'test/ad',
      namespace: 'test',
      spec: connectedSystemSpec.parse({
        type: 'ldap',
        allowPrivateNetwork: true,
        ldap: { url: server.url, flavour: 'activeDirectory', peopleDN: server.peopleDN, groupsDN: server.groupsDN },
      }),
      credentials: { bindDN: server.adminDN, password: server.adminPassword, 'ca.crt': server.caCert },
      logger: pino({ level: 'silent' }),
    });
  }, 300_000);

  afterAll(async () => {
    await connector?.close();
    await server?.close();
  }, 60_000);

  const find = (admin: Client, userName: string, attributes: string[]) =>
    admin.search(server.peopleDN, { scope: 'one', filter: `(sAMAccountName=${escapeFilterValue(userName)})`, attributes }).then((r) => r.searchEntries[0]);

  const read = (userName: string) =>
    asAdmin(server, async (admin) => {
      const { searchEntries } = await admin.search(server.peopleDN, {
        scope: 'one',
        filter: `(sAMAccountName=${escapeFilterValue(userName)})`,
        attributes: ['userAccountControl', 'userPrincipalName', 'adminDescription', 'employeeID', 'cn'],
      });
      return searchEntries[0];
    });

  it('creates an enabled user with sAMAccountName, userPrincipalName and the marker, and toggles userAccountControl', async () => {
    const desired = { system: 'test', userName: 'hana', state: 'present' as const, attributes: { employeeId: 'E-42' }, entitlements: [] };
    await connector.apply({ op: 'create', account: desired }, AbortSignal.timeout(30_000));
    expect(await read('hana')).toMatchObject({
      cn: 'hana',
      userAccountControl: '512',
      userPrincipalName: 'hana@example.test',
      adminDescription: 'rollcall:test/ad',
      employeeID: 'E-42',
    });
    await connector.apply({ op: 'disable', userName: 'hana' }, AbortSignal.timeout(30_000));
    expect((await read('hana'))?.['userAccountControl']).toBe('514');
    await connector.apply({ op: 'enable', userName: 'hana' }, AbortSignal.timeout(30_000));
    expect((await read('hana'))?.['userAccountControl']).toBe('512');
  });

  it('sets a first password that must be changed at next logon: pwdLastSet 0, and the bind answers data 773', async () => {
    const password = `Rc1!first-${crypto.randomUUID()}`;
    const desired = { system: 'test', userName: 'ines', state: 'present' as const, attributes: {}, entitlements: [] };
    await connector.apply({ op: 'create', account: desired, initialPassword: password }, AbortSignal.timeout(30_000));
    const entry = await asAdmin(server, (admin) => find(admin, 'ines', ['pwdLastSet', 'userAccountControl']));
    expect(entry).toMatchObject({ pwdLastSet: '0', userAccountControl: '512' });
    const bindError = async (secret: string) => {
      const user = client(server);
      try {
        await user.bind(entry!.dn, secret);
        return 'bound';
      } catch (error) {
        return (error as Error).message;
      } finally {
        await user.unbind().catch(() => undefined);
      }
    };
    // The right password, but it must be changed first (AcceptSecurityContext data 773); a wrong one is 52e.
    expect(await bindError(password)).toMatch(/data 773/);
    expect(await bindError(`${password}x`)).toMatch(/data 52e/);
    await connector.apply({ op: 'delete', userName: 'ines' }, AbortSignal.timeout(30_000));
  });
});
