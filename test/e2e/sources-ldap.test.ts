// Directory to cloud: an `ldap` IdentitySource reads the people of a real slapd over StartTLS (the CA
// from spec.ldap.caSecretRef), and `rollcall run` against the real API server provisions them into a
// real SCIM server (python-scim's scim2-server). A person removed from the directory, and one marked
// inactive there, end deactivated in SCIM. A second source trusting another CA reads nobody.
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start as startScim, type ScimServer } from '../servers/scim.ts';
import { start as startSlapd, type SlapdServer } from '../servers/slapd.ts';
import { makeCertificates, type TestCertificates } from '../servers/tls.ts';
import { createNamespace, kubectlOk } from './kube.ts';
import { until } from '../helpers/eventually.ts';
import { startRollcall, type RollcallRun } from './rollcall-run.ts';

interface CloudAccount {
  active: boolean;
  groups: string[];
  displayName?: string;
  email?: string;
}

describe('an ldap IdentitySource provisioning into a SCIM application', () => {
  let certs: TestCertificates;
  let slapd: SlapdServer;
  let scim: ScimServer;
  let namespace: string;
  let rollcall: RollcallRun;
  let hrDN: string;

  async function withLdap<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ url: slapd.url, timeout: 5000, connectTimeout: 2000 });
    await client.bind(slapd.adminDN, slapd.adminPassword);
    try {
      return await fn(client);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  const hire = (uid: string, employeeNumber: string, givenName: string, sn: string) =>
    withLdap((c) =>
      c.add(`uid=${uid},${hrDN}`, {
        objectClass: ['inetOrgPerson'],
        uid,
        cn: `${givenName} ${sn}`,
        givenName,
        sn,
        mail: `${uid}@example.org`,
        employeeNumber,
        employeeType: 'active',
      }),
    );

  async function scimRequest(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${scim.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${scim.token}`, 'content-type': 'application/scim+json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`SCIM ${method} ${path}: HTTP ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  }

  /** The accounts Rollcall manages in the SCIM server, read as its administrator: userName → state. */
  async function cloudAccounts(): Promise<Record<string, CloudAccount>> {
    const users = ((await scimRequest('GET', '/Users?count=1000'))['Resources'] ?? []) as Record<string, unknown>[];
    const groups = ((await scimRequest('GET', '/Groups?count=1000'))['Resources'] ?? []) as Record<string, unknown>[];
    const out: Record<string, CloudAccount> = {};
    for (const user of users) {
      if (!String(user['externalId'] ?? '').startsWith('rollcall:')) continue;
      const memberOf = groups
        .filter((g) => ((g['members'] as { value: string }[] | undefined) ?? []).some((m) => m.value === user['id']))
        .map((g) => String(g['displayName']));
      const email = (user['emails'] as { value: string }[] | undefined)?.[0]?.value;
      out[String(user['userName'])] = {
        active: user['active'] !== false,
        groups: memberOf.sort(),
        ...(user['displayName'] !== undefined && { displayName: String(user['displayName']) }),
        ...(email && { email }),
      };
    }
    return out;
  }

  const wait = <T>(what: string, probe: () => Promise<T | undefined>) => until(what, probe, { logs: () => rollcall.output() });
  const user = (name: string) => JSON.parse(kubectlOk(['get', 'user', name, '-n', namespace, '-o', 'json']));

  beforeAll(async () => {
    certs = makeCertificates();
    [slapd, scim] = await Promise.all([startSlapd(certs), startScim()]);
    hrDN = `ou=hr,${slapd.suffix}`;
    await withLdap((c) => c.add(hrDN, { objectClass: 'organizationalUnit', ou: 'hr' }));
    await hire('alice', '1001', 'Alice', 'Smith');
    await hire('bob', '1002', 'Bob', 'Jones');
    await hire('carol', '1003', 'Carol', 'White');
    // Someone outside the search base: never a User.
    await withLdap((c) =>
      c.add(`uid=svc-backup,${slapd.peopleDN}`, { objectClass: ['inetOrgPerson'], uid: 'svc-backup', cn: 'backup', sn: 'backup', employeeNumber: '9999' }),
    );
    await scimRequest('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'staff' });

    namespace = createNamespace('sources-ldap');
    const credentials = (name: string, data: Record<string, string>) => `---
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${namespace}, labels: {rollcall.dev/credentials: "true"}, annotations: {rollcall.dev/allow-insecure: "true"}}
stringData: ${JSON.stringify(data)}
`;
    // Over StartTLS: no consent to plaintext, and a CA Secret holds only ca.crt (it needs no label).
    const secret = (name: string, labels: string, data: Record<string, string>) => `---
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${namespace}, labels: {${labels}}}
stringData: ${JSON.stringify(data)}
`;
    const source = (name: string, ca: string) => `---
apiVersion: rollcall.dev/v1alpha1
kind: IdentitySource
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  type: ldap
  allowPrivateNetwork: true # the test's slapd listens on loopback
  ldap: {url: "${slapd.url}", startTLS: true, caSecretRef: {name: ${ca}}, baseDN: "${hrDN}", filter: "(&(objectClass=inetOrgPerson)(employeeNumber=*))", pageSize: 2}
  credentialsSecretRef: {name: directory-reader}
  idField: employeeNumber
  interval: 1s
  mapping:
    - {to: userName, from: uid}
    - {to: givenName, from: givenName}
    - {to: familyName, from: sn}
    - {to: displayName, from: cn}
    - {to: email, from: mail}
  terminationField: {field: employeeType, values: [inactive]}
  missingPolicy: terminate
`;
    kubectlOk(
      ['apply', '-f', '-'],
      `${secret('directory-reader', 'rollcall.dev/credentials: "true"', { bindDN: slapd.adminDN, password: slapd.adminPassword })}${secret('directory-ca', '', { 'ca.crt': certs.ca })}${secret('other-ca', '', { 'ca.crt': certs.otherCa })}${source('hr-directory', 'directory-ca')}${source('hr-other-ca', 'other-ca')}${credentials('cloud-token', { token: scim.token })}---
apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: cloud, namespace: ${namespace}}
spec:
  type: scim
  insecure: true # the test's SCIM server speaks plain HTTP
  allowPrivateNetwork: true # the test servers listen on loopback
  scim: {baseUrl: "${scim.baseUrl}", auth: bearer}
  credentialsSecretRef: {name: cloud-token}
  deprovision: {policy: disable}
  resyncInterval: 5s
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: staff, namespace: ${namespace}}
spec: {grants: [{system: cloud, entitlements: [staff]}]}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: everyone-in-the-directory, namespace: ${namespace}}
spec: {role: staff, userSelector: {matchLabels: {rollcall.dev/source: hr-directory}}}
`,
    );
    rollcall = startRollcall(namespace);
  });

  afterAll(async () => {
    await rollcall?.stop();
    await Promise.all([slapd?.close(), scim?.close()]);
    certs?.close();
  });

  it('the people of the directory become Users, and active accounts in the SCIM application', async () => {
    const accounts = await wait('three cloud accounts', async () => {
      const all = await cloudAccounts();
      return Object.keys(all).length === 3 && Object.values(all).every((a) => a.groups.length === 1) ? all : undefined;
    });
    expect(accounts).toEqual({
      alice: { active: true, groups: ['staff'], displayName: 'Alice Smith', email: 'alice@example.org' },
      bob: { active: true, groups: ['staff'], displayName: 'Bob Jones', email: 'bob@example.org' },
      carol: { active: true, groups: ['staff'], displayName: 'Carol White', email: 'carol@example.org' },
    });
    expect(user('1001').spec).toMatchObject({ userName: 'alice', givenName: 'Alice', familyName: 'Smith', state: 'active' });
    expect(kubectlOk(['get', 'users', '-n', namespace, '-o', 'name']).trim().split('\n').sort()).toEqual([
      'user.rollcall.dev/1001',
      'user.rollcall.dev/1002',
      'user.rollcall.dev/1003',
    ]);
  });

  it("a source trusting another CA is refused, saying the server's certificate was not verified, and reads nobody", async () => {
    const ready = await wait('hr-other-ca not ready', async () => {
      const source = JSON.parse(kubectlOk(['get', 'idsrc', 'hr-other-ca', '-n', namespace, '-o', 'json']));
      return (source.status?.conditions ?? []).find((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'False');
    });
    expect(ready).toMatchObject({ reason: 'FeedUnreachable' });
    expect(ready.message).toMatch(/^could not read spec\.ldap\.url: the server's certificate was not verified \(\w+\); check the host name in spec\.ldap\.url/);
    expect(kubectlOk(['get', 'users', '-n', namespace, '-l', 'rollcall.dev/source=hr-other-ca', '-o', 'name']).trim()).toBe('');
  });

  it('a change in the directory reaches the SCIM account', async () => {
    await withLdap((c) =>
      c.modify(`uid=alice,${hrDN}`, [new Change({ operation: 'replace', modification: new Attribute({ type: 'cn', values: ['Alice Brown'] }) })]),
    );
    await wait('alice renamed', async () => ((await cloudAccounts()).alice?.displayName === 'Alice Brown' ? true : undefined));
  });

  it('a person removed from the directory, and one marked inactive, are deactivated in SCIM; the others stay', async () => {
    await withLdap((c) => c.del(`uid=bob,${hrDN}`));
    await wait('bob deactivated', async () => ((await cloudAccounts()).bob?.active === false ? true : undefined));
    expect(user('1002').spec.state).toBe('terminated');

    await withLdap((c) =>
      c.modify(`uid=carol,${hrDN}`, [new Change({ operation: 'replace', modification: new Attribute({ type: 'employeeType', values: ['inactive'] }) })]),
    );
    await wait('carol deactivated', async () => ((await cloudAccounts()).carol?.active === false ? true : undefined));
    expect(user('1003').spec.state).toBe('terminated');

    expect((await cloudAccounts()).alice).toMatchObject({ active: true, groups: ['staff'] });
  });
});
