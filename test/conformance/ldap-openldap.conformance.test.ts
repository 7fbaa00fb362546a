// OpenLDAP specifics beyond the shared suite, asserted on the server's own entries: groupOfNames
// never left empty, posixGroup memberUid, missing groups, ppolicy locking, foreign entries kept.
import { Attribute, Change, Client, InsufficientAccessError, type Entry } from 'ldapts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedSystemSpec, PermanentError } from '../../src/api/index.ts';
import { EMPTY_GROUP_PLACEHOLDER } from '../../src/connectors/ldap/index.ts';
import { connectorFactory } from '../../src/connectors/registry.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { start, type SlapdServer } from '../servers/slapd.ts';

const signal = () => AbortSignal.timeout(10_000);
const account = (userName: string, attributes: Record<string, string> = {}) => ({
  system: 'test',
  userName,
  state: 'present' as const,
  attributes,
  entitlements: [],
});

describe('ldap connector on OpenLDAP', () => {
  let server: SlapdServer;
  let admin: Client;
  let connector: Connector;
  let posix: Connector;

  const connect = async (ldap: Record<string, unknown>) =>
    (await connectorFactory('ldap'))({
      system: 'test/openldap',
      namespace: 'test',
      spec: connectedSystemSpec.parse({
        type: 'ldap',
        insecure: true,
        allowPrivateNetwork: true,
        ldap: { url: server.url, peopleDN: server.peopleDN, groupsDN: server.groupsDN, ...ldap },
      }),
      credentials: { bindDN: server.adminDN, password: server.adminPassword },
      logger: pino({ level: 'silent' }),
    });

  const read = async (dn: string, attributes: string[]): Promise<Entry | undefined> =>
    (await admin.search(dn, { scope: 'base', attributes }).catch(() => ({ searchEntries: [] }))).searchEntries[0];
  const members = async (group: string) => [(await read(`cn=${group},${server.groupsDN}`, ['member']))?.['member'] ?? []].flat();

  beforeAll(async () => {
    server = await start();
    admin = new Client({ url: server.url });
    await admin.bind(server.adminDN, server.adminPassword);
    await admin.add(`ou=posix,${server.suffix}`, { objectClass: ['organizationalUnit'], ou: 'posix' });
    await admin.add(`cn=ops,ou=posix,${server.suffix}`, { objectClass: ['posixGroup'], cn: 'ops', gidNumber: '5000' });
    connector = await connect({});
    posix = await connect({ groupType: 'posixGroup', groupsDN: `ou=posix,${server.suffix}` });
  }, 120_000);

  afterAll(async () => {
    await connector?.close();
    await posix?.close();
    await admin?.unbind().catch(() => undefined);
    await server?.close();
  });

  it('creates an inetOrgPerson with the marker, cn from displayName and sn from familyName', async () => {
    await connector.apply({ op: 'create', account: account('dana', { displayName: 'Dana Diaz', familyName: 'Diaz', email: 'dana@example.org' }) }, signal());
    const entry = await read(`uid=dana,${server.peopleDN}`, ['cn', 'sn', 'mail', 'businessCategory', 'objectClass']);
    expect(entry).toMatchObject({ cn: 'Dana Diaz', sn: 'Diaz', mail: 'dana@example.org', businessCategory: 'rollcall:test/openldap' });
    expect((await connector.getAccount('dana', signal()))?.attributes).toEqual({ displayName: 'Dana Diaz', familyName: 'Diaz', email: 'dana@example.org' });
  });

  it('keeps a groupOfNames valid: the placeholder replaces the last member and leaves with the next', async () => {
    await connector.apply({ op: 'grant', userName: 'dana', entitlement: 'engineering' }, signal());
    expect(await members('engineering')).toEqual([`uid=dana,${server.peopleDN}`]);
    await connector.apply({ op: 'revoke', userName: 'dana', entitlement: 'engineering' }, signal());
    expect(await members('engineering')).toEqual([EMPTY_GROUP_PLACEHOLDER]);
  });

  it('leaves its groups before it is deleted, so no group is left empty', async () => {
    await connector.apply({ op: 'create', account: account('erin') }, signal());
    await connector.apply({ op: 'grant', userName: 'erin', entitlement: 'vpn-users' }, signal());
    await connector.apply({ op: 'delete', userName: 'erin' }, signal());
    expect(await read(`uid=erin,${server.peopleDN}`, ['uid'])).toBeUndefined();
    expect(await members('vpn-users')).toEqual([EMPTY_GROUP_PLACEHOLDER]);
  });

  it('converges one group under many concurrent grants and revokes, the placeholder only while it is empty', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `crowd${i}`);
    await Promise.all(names.map((name) => connector.apply({ op: 'create', account: account(name) }, signal())));
    // Every grant twice, at once: the repeats must be no-ops, whichever modify carries them.
    await Promise.all([...names, ...names].map((name) => connector.apply({ op: 'grant', userName: name, entitlement: 'vpn-users' }, signal())));
    const dn = (name: string) => `uid=${name},${server.peopleDN}`;
    expect((await members('vpn-users')).sort()).toEqual(names.map(dn).sort());
    // Half leave while the other half are granted again: only the leavers go.
    const [leaving, staying] = [names.slice(0, 20), names.slice(20)];
    await Promise.all([
      ...leaving.map((name) => connector.apply({ op: 'revoke', userName: name, entitlement: 'vpn-users' }, signal())),
      ...staying.map((name) => connector.apply({ op: 'grant', userName: name, entitlement: 'vpn-users' }, signal())),
    ]);
    expect((await members('vpn-users')).sort()).toEqual(staying.map(dn).sort());
    expect((await connector.getAccount('crowd0', signal()))?.entitlements).toEqual([]);
    expect((await connector.getAccount('crowd39', signal()))?.entitlements).toEqual(['vpn-users']);
    // The rest leave at once, some twice: the group keeps exactly the placeholder.
    await Promise.all(
      [...staying, ...staying.slice(0, 5)].map((name) => connector.apply({ op: 'revoke', userName: name, entitlement: 'vpn-users' }, signal())),
    );
    expect(await members('vpn-users')).toEqual([EMPTY_GROUP_PLACEHOLDER]);
    await Promise.all(names.map((name) => connector.apply({ op: 'delete', userName: name }, signal())));
  });

  it('names a missing group in a permanent error', async () => {
    const error = await connector.apply({ op: 'grant', userName: 'dana', entitlement: 'no-such-group' }, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain('cn=no-such-group,ou=groups,dc=example,dc=org');
  });

  it('locks with ppolicy and unlocks', async () => {
    await connector.apply({ op: 'disable', userName: 'dana' }, signal());
    expect((await read(`uid=dana,${server.peopleDN}`, ['pwdAccountLockedTime']))?.['pwdAccountLockedTime']).toBe('000001010000Z');
    await connector.apply({ op: 'enable', userName: 'dana' }, signal());
    expect((await read(`uid=dana,${server.peopleDN}`, ['pwdAccountLockedTime']))?.['pwdAccountLockedTime']).toEqual([]);
  });

  it('sets a first password that binds once and must be changed before anything else (ppolicy pwdMustChange)', async () => {
    // The site's password policy asks for the change: without pwdMustChange, pwdReset is only a marker.
    await admin.modify(
      `cn=default,ou=policies,${server.suffix}`,
      new Change({ operation: 'replace', modification: new Attribute({ type: 'pwdMustChange', values: ['TRUE'] }) }),
    );
    try {
      const password = 'First-Pass-2-only-once';
      await connector.apply({ op: 'create', account: account('ivy'), initialPassword: password }, signal());
      const dn = `uid=ivy,${server.peopleDN}`;
      expect(await read(dn, ['pwdReset'])).toMatchObject({ pwdReset: 'TRUE' });
      const ivy = new Client({ url: server.url });
      try {
        await ivy.bind(dn, password);
        // Bound, but restricted to changing the password: ppolicy's changeAfterReset.
        const refused = await ivy.search(server.peopleDN, { scope: 'one', attributes: ['uid'] }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(InsufficientAccessError);
        expect((refused as Error).message).toContain('Operations are restricted to bind/unbind/abandon/StartTLS/modify password');
        await ivy.modify(dn, [
          new Change({ operation: 'delete', modification: new Attribute({ type: 'userPassword', values: [password] }) }),
          new Change({ operation: 'add', modification: new Attribute({ type: 'userPassword', values: ['Chosen-By-Ivy-4'] }) }),
        ]);
      } finally {
        await ivy.unbind().catch(() => undefined);
      }
      // Changed by herself: no longer restricted, and the delivered password no longer binds.
      const again = new Client({ url: server.url });
      try {
        await again.bind(dn, 'Chosen-By-Ivy-4');
        expect((await again.search(server.peopleDN, { scope: 'one', filter: '(uid=ivy)', attributes: ['uid'] })).searchEntries).toHaveLength(1);
      } finally {
        await again.unbind().catch(() => undefined);
      }
      expect(
        await new Client({ url: server.url }).bind(dn, password).then(
          () => 'bound',
          (e: unknown) => (e as Error).constructor.name,
        ),
      ).toBe('InvalidCredentialsError');
      await connector.apply({ op: 'delete', userName: 'ivy' }, signal());
    } finally {
      await admin.modify(
        `cn=default,ou=policies,${server.suffix}`,
        new Change({ operation: 'delete', modification: new Attribute({ type: 'pwdMustChange' }) }),
      );
    }
  });

  it('scrambles the password on disable and locks after it: the old password binds neither while disabled nor after a re-enable', async () => {
    await connector.apply({ op: 'create', account: account('jo') }, signal());
    const dn = `uid=jo,${server.peopleDN}`;
    await admin.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: ['Known-Pass-5'] }) }));
    const binds = () =>
      new Client({ url: server.url }).bind(dn, 'Known-Pass-5').then(
        () => true,
        () => false,
      );
    expect(await binds()).toBe(true);
    await connector.apply({ op: 'disable', userName: 'jo' }, signal());
    // Locked although the password changed (a change lifts ppolicy's lock: the lock is written after it).
    expect(await read(dn, ['pwdAccountLockedTime', 'userPassword'])).toMatchObject({ pwdAccountLockedTime: '000001010000Z' });
    expect(String((await read(dn, ['userPassword']))?.['userPassword'])).not.toBe('Known-Pass-5');
    expect(await binds()).toBe(false);
    await connector.apply({ op: 'enable', userName: 'jo' }, signal());
    expect(await binds()).toBe(false);
    await connector.apply({ op: 'delete', userName: 'jo' }, signal());
  });

  it('refuses to create over an entry it does not manage, and leaves it as it was', async () => {
    await admin.add(`uid=frank,${server.peopleDN}`, { objectClass: ['inetOrgPerson'], uid: 'frank', cn: 'Frank', sn: 'F' });
    const error = await connector.apply({ op: 'create', account: account('frank', { displayName: 'Not Frank' }) }, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect(await read(`uid=frank,${server.peopleDN}`, ['cn', 'displayName', 'businessCategory'])).toMatchObject({
      cn: 'Frank',
      displayName: [],
      businessCategory: [],
    });
  });

  it('grants posixGroup membership as memberUid and removes it on delete', async () => {
    await posix.apply({ op: 'create', account: account('gus') }, signal());
    await posix.apply({ op: 'grant', userName: 'gus', entitlement: 'ops' }, signal());
    expect((await read(`cn=ops,ou=posix,${server.suffix}`, ['memberUid']))?.['memberUid']).toBe('gus');
    expect((await posix.getAccount('gus', signal()))?.entitlements).toEqual(['ops']);
    const listed = [];
    for await (const observed of posix.listAccounts(signal())) listed.push(observed);
    expect(listed.find((observed) => observed.userName === 'gus')?.entitlements).toEqual(['ops']);
    await posix.apply({ op: 'delete', userName: 'gus' }, signal());
    expect((await read(`cn=ops,ou=posix,${server.suffix}`, ['memberUid']))?.['memberUid']).toEqual([]);
  });
});
