// An ldap IdentitySource against a real slapd: a paged search (pages smaller than the people),
// entries mapped to Users like any feed, a plaintext URL refused without insecure: true.
import { Client } from 'ldapts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, identitySourceSpec, type IdentitySource } from '../../src/api/index.ts';
import { FeedReader } from '../../src/feeds/source-feed.ts';
import { mapRecords } from '../../src/sources/map.ts';
import { Rejections } from '../../src/sources/records.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { credentialsSecret } from '../helpers/credentials-secret.ts';
import { start, type SlapdServer } from '../servers/slapd.ts';

describe('ldap identity source on OpenLDAP', () => {
  let server: SlapdServer;
  let store: MemoryStore;
  /** A store holding the credentials Secret `reader` the source names: the admin's DN with `password`. */
  const storeWithReader = (password: string) =>
    new MemoryStore([credentialsSecret('reader', { bindDN: server.adminDN, password })], { logger: pino({ level: 'silent' }) });

  beforeAll(async () => {
    server = await start();
    const admin = new Client({ url: server.url });
    await admin.bind(server.adminDN, server.adminPassword);
    const people = [
      ['alice', 'Alice', 'Smith', 'E1001', 'Sales'],
      ['bob', 'Bob', 'Jones', 'E1002', 'Finance'],
      ['carol', 'Carol', 'White', 'E1003', 'Sales'],
      ['dave', 'Dave', 'Brown', 'E1004', 'Legal'],
      ['erin', 'Erin', 'Black', 'E1005', 'Sales'],
    ];
    for (const [uid, givenName, sn, employeeNumber, departmentNumber] of people) {
      await admin.add(`uid=${uid},${server.peopleDN}`, {
        objectClass: ['inetOrgPerson'],
        uid: uid!,
        cn: `${givenName} ${sn}`,
        givenName: givenName!,
        sn: sn!,
        mail: `${uid}@example.org`,
        employeeNumber: employeeNumber!,
        departmentNumber: departmentNumber!,
      });
    }
    // Not a person of this source: no employeeNumber.
    await admin.add(`uid=svc-backup,${server.peopleDN}`, { objectClass: ['inetOrgPerson'], uid: 'svc-backup', cn: 'backup', sn: 'backup' });
    await admin.unbind();
    store = storeWithReader(server.adminPassword);
  });
  afterAll(async () => {
    await server?.close();
  });

  const source = (ldap: Record<string, unknown>): IdentitySource => ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'IdentitySource',
    metadata: { name: 'directory', namespace: 'acme' },
    spec: identitySourceSpec.parse({
      type: 'ldap',
      allowPrivateNetwork: true,
      ldap: { url: server.url, baseDN: server.peopleDN, filter: '(&(objectClass=inetOrgPerson)(employeeNumber=*))', insecure: true, pageSize: 2, ...ldap },
      credentialsSecretRef: { name: 'reader' },
      idField: 'employeeNumber',
      mapping: [
        { to: 'userName', from: 'uid' },
        { to: 'givenName', from: 'givenName' },
        { to: 'familyName', from: 'sn' },
        { to: 'email', from: 'mail' },
        { to: 'labels/department', from: 'departmentNumber', transforms: [{ op: 'lower' }] },
      ],
    }),
  });

  it('reads every person through pages of two and maps them to Users', async () => {
    const rejections = new Rejections();
    const records = await new FeedReader(store).read(source({}), rejections, AbortSignal.timeout(10_000));
    expect(records.map((r) => r.ref).sort()).toEqual(['alice', 'bob', 'carol', 'dave', 'erin'].map((uid) => `uid=${uid},${server.peopleDN}`));
    const mapped = mapRecords(records, source({}).spec, new Date('2026-11-30T12:00:00Z'), rejections);
    expect(rejections.count).toBe(0);
    expect(mapped.users.find((u) => u.name === 'e1002')).toMatchObject({
      spec: { userName: 'bob', givenName: 'Bob', familyName: 'Jones', email: 'bob@example.org' },
      labels: { department: 'finance' },
    });
  });

  it('refuses plaintext without insecure: true, and says so', async () => {
    await expect(new FeedReader(store).read(source({ insecure: false }), new Rejections(), AbortSignal.timeout(10_000))).rejects.toThrow(PermanentError);
  });

  it('a bind the server refuses is an error, never an empty feed', async () => {
    const wrong = storeWithReader('wrong');
    await expect(new FeedReader(wrong).read(source({}), new Rejections(), AbortSignal.timeout(10_000))).rejects.toThrow(/LDAP search .* failed/);
  });
});
