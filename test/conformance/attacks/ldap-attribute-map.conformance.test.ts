// Issue 17, hole 2, against real slapd: a tenant who may write a ConnectedSystem mapped a User
// attribute onto userPassword (and set a colleague's password), onto the marker businessCategory
// (and handed an account to team-b's system), or onto lock and naming attributes. The connector
// refuses every such mapping when it reads its settings, even when the API server let the object by
// (built here straight from the spec, as an older CRD or a hand-made object would give it), naming
// spec.ldap.attributeMap[KEY]; the colleague's password and the marker stay as they were. `rollcall
// run --manifests` refuses the same manifest through the CRD's CEL. And spec.allowedEntitlements
// judges names as slapd finds them: a fullwidth `ａdmins` is `admins` (refused by ['staff']), the
// ligature in `ops-ﬁ` is `ops-fi` (not one character for `ops-?`), and `ＴＥＡＭ-x` is team-x.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedSystemSpec, PermanentError } from '../../../src/api/index.ts';
import { EMPTY_GROUP_PLACEHOLDER } from '../../../src/connectors/ldap/index.ts';
import { connectorFactory } from '../../../src/connectors/registry.ts';
import { accessBinding, accessRole, credentialsSecret, ldapSystem, manifestsYaml, user, type Manifest } from '../../helpers/manifests.ts';
import { rollcall } from '../../helpers/rollcall-cli.ts';
import { start, type SlapdServer } from '../../servers/slapd.ts';
import { bindSucceeds } from '../ldap-binds.ts';

const signal = () => AbortSignal.timeout(10_000);
const SYSTEM = 'team-a/directory';
const MARKER = `rollcall:${SYSTEM}`;
const BOB_PASSWORD = `bob-${crypto.randomUUID()}`;
const CAROL_PASSWORD = `carol-${crypto.randomUUID()}`;

// Each target a mapping must never write: passwords (by name, case variant, OID, with an option),
// the marker, lock state, naming, object class, membership and an operational attribute.
const FORBIDDEN = [
  'userPassword',
  'USERPASSWORD',
  '2.5.4.35',
  'userPassword;binary',
  'authPassword',
  'businessCategory',
  'pwdAccountLockedTime',
  'shadowExpire',
  'uid',
  'cn',
  'objectClass',
  'memberOf',
  'entryUUID',
];

describe('ldap attributeMap and allowedEntitlements, attacked as a tenant against slapd', () => {
  let server: SlapdServer;
  let admin: Client;
  let root = '';

  const entry = async (dn: string, attributes: string[]) => (await admin.search(dn, { scope: 'base', attributes })).searchEntries[0]!;
  const canBind = (dn: string, password: string) => bindSucceeds(new Client({ url: server.url }), dn, password);
  /** The connector as the tenant's ConnectedSystem would make it: zod's checks only, none of the CRD's CEL. */
  const connectorMapping = async (attributeMap: Record<string, string>) =>
    (await connectorFactory('ldap'))({
      system: SYSTEM,
      namespace: 'team-a',
      spec: connectedSystemSpec.parse({
        type: 'ldap',
        insecure: true,
        allowPrivateNetwork: true,
        ldap: { url: server.url, peopleDN: server.peopleDN, groupsDN: server.groupsDN, attributeMap },
      }),
      credentials: { bindDN: server.adminDN, password: server.adminPassword },
      logger: pino({ level: 'silent' }),
    });
  const values = async (dn: string, attribute: string) => [(await entry(dn, [attribute]))[attribute] ?? []].flat().map(String);
  const members = async (group: string) => [(await entry(`cn=${group},${server.groupsDN}`, ['member']))['member'] ?? []].flat().map(String);

  beforeAll(async () => {
    server = await start();
    admin = new Client({ url: server.url });
    await admin.bind(server.adminDN, server.adminPassword);
    const person = (uid: string, password: string, marker?: string) => ({
      objectClass: ['inetOrgPerson'],
      uid,
      cn: uid,
      sn: uid,
      userPassword: password,
      ...(marker ? { businessCategory: marker } : {}),
    });
    // bob: a colleague whose account team-a's own system manages; carol: nobody's.
    await admin.add(`uid=bob,${server.peopleDN}`, person('bob', BOB_PASSWORD, MARKER));
    await admin.add(`uid=carol,${server.peopleDN}`, person('carol', CAROL_PASSWORD));
    for (const group of ['admins', 'staff', 'team-x', 'ops-a', 'ops-fi']) {
      await admin.add(`cn=${group},${server.groupsDN}`, { objectClass: ['groupOfNames'], cn: group, member: [EMPTY_GROUP_PLACEHOLDER] });
    }
  }, 120_000);

  afterAll(async () => {
    await admin?.unbind().catch(() => undefined);
    await server?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it.each(FORBIDDEN)('the connector refuses a mapping onto %s, naming spec.ldap.attributeMap[secret], and writes nothing', async (target) => {
    const attempt = async () => {
      const connector = await connectorMapping({ secret: target });
      try {
        // The colleague's managed account, and an unmanaged one taken over (adoption: matchUserName).
        await connector.apply({ op: 'update', userName: 'bob', attributes: { secret: 'rollcall:team-b/directory' } }, signal());
        await connector.apply({ op: 'adopt', userName: 'carol' }, signal());
        await connector.apply({ op: 'update', userName: 'carol', attributes: { secret: 'chosen-by-team-a' } }, signal());
      } finally {
        await connector.close();
      }
    };
    const error = await attempt().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain(`spec.ldap.attributeMap[secret]: ${JSON.stringify(target)} is not an LDAP attribute a mapping may write`);
    expect(await canBind(`uid=bob,${server.peopleDN}`, BOB_PASSWORD)).toBe(true);
    expect(await canBind(`uid=carol,${server.peopleDN}`, CAROL_PASSWORD)).toBe(true);
    expect(await entry(`uid=bob,${server.peopleDN}`, ['businessCategory', 'uid', 'pwdAccountLockedTime'])).toMatchObject({
      businessCategory: MARKER,
      uid: 'bob',
    });
    expect(await values(`uid=bob,${server.peopleDN}`, 'pwdAccountLockedTime')).toEqual([]);
    expect(await values(`uid=carol,${server.peopleDN}`, 'businessCategory')).toEqual([]);
  });

  it('an ordinary person attribute in another case is accepted and written under its own name', async () => {
    const connector = await connectorMapping({ room: 'ROOMNUMBER' });
    await connector.apply({ op: 'update', userName: 'bob', attributes: { room: '4.12' } }, signal());
    expect((await connector.getAccount('bob', signal()))?.attributes).toMatchObject({ room: '4.12' });
    await connector.close();
  });

  it('rollcall run --manifests refuses the same mapping through the CRD rules, naming the field', async () => {
    root = mkdtempSync(join(tmpdir(), 'rollcall-attack-ldap-'));
    writeFileSync(join(root, 'system.yaml'), manifestsYaml(system(server, { attributeMap: { secret: '2.5.4.35' } })));
    const run = await rollcall(['run', '--manifests', root, '--once'], root);
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('spec.ldap.attributeMap[secret]');
    expect(await canBind(`uid=bob,${server.peopleDN}`, BOB_PASSWORD)).toBe(true);
  });

  it('allowedEntitlements compares as slapd does: no look-alike reaches a group the list refuses, and a folded spelling of an allowed one is granted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollcall-attack-allowed-'));
    try {
      writeFileSync(
        join(dir, 'all.yaml'),
        manifestsYaml([
          ...system(server, { allowedEntitlements: ['staff', 'team-*', 'ops-?'] }),
          accessRole(tenant('grab'), { directory: ['ａdmins', 'ops-ﬁ', 'ＴＥＡＭ-x', 'staff'] }),
          accessBinding(tenant('grab'), { users: ['mallory'] }),
          user(tenant('mallory'), { givenName: 'Mal', familyName: 'Lory' }),
        ]),
      );
      const run = await rollcall(['run', '--manifests', dir, '--once'], dir);
      const mallory = `uid=mallory,${server.peopleDN}`;
      expect(await members('staff'), run.stdout + run.stderr).toContain(mallory);
      // slapd would have put mallory into admins for `ａdmins`, and into ops-fi for `ops-ﬁ`.
      expect(await members('admins')).not.toContain(mallory);
      expect(await members('ops-fi')).not.toContain(mallory);
      expect(run.stdout + run.stderr).toContain('not matched by spec.allowedEntitlements');
      // team-* admits ＴＥＡＭ-x, which slapd finds as team-x.
      expect(await members('team-x')).toContain(mallory);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The tenant's objects: all in team-a. */
const tenant = (name: string) => ({ name, namespace: 'team-a' });

/** The credentials Secret `ldap` (slapd's admin), then the ConnectedSystem directory naming it. */
function system(server: SlapdServer, extra: { attributeMap?: Record<string, string>; allowedEntitlements?: string[] }): Manifest[] {
  const { attributeMap, ...rest } = extra;
  return [
    credentialsSecret(tenant('ldap'), { bindDN: server.adminDN, password: server.adminPassword }),
    ldapSystem(tenant('directory'), server, { ldap: attributeMap ? { attributeMap } : {}, credentialsSecretRef: { name: 'ldap' }, ...rest }),
  ];
}
