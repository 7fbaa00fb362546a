// An IdP that is not ours (python-scim's scim2-client) pushes a person through `rollcall run
// --scim-port` against the real API server, step by step, and the account in a real slapd follows
// each step: created with the person's names and groups, renamed, locked, unlocked, and removed.
import { execFile, execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../servers/test-server.ts';
import { start as startSlapd, type SlapdServer } from '../servers/slapd.ts';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';
import { until } from '../helpers/eventually.ts';
import { startRollcall, type RollcallRun } from './rollcall-run.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = join(process.env.ROLLCALL_CACHE ?? join(homedir(), '.cache', 'rollcall'), 'venv-scim2-client', 'bin', 'python');
const TOKEN = `idp-${Math.random().toString(36).slice(2)}`;

interface LdapAccount {
  sn: string;
  mail: string;
  locked: boolean;
  groups: string[];
}

describe('inbound SCIM from scim2-client, provisioned into slapd', () => {
  let slapd: SlapdServer;
  let namespace: string;
  let rollcall: RollcallRun;
  let base: string;

  /** One step of the IdP; a step on a User the server's cache has not seen yet is tried again. */
  async function idp(...args: string[]): Promise<Record<string, unknown>> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const { stdout } = await promisify(execFile)(PYTHON, ['-W', 'ignore', join(ROOT, 'test', 'servers', 'scim-inbound-steps.py'), base, TOKEN, ...args], {
          encoding: 'utf8',
        });
        return JSON.parse(stdout) as Record<string, unknown>;
      } catch (error) {
        lastError = error;
        if (args[0] === 'create' || !String((error as { stderr?: string }).stderr).includes('404')) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    throw new Error(
      `scim2-client ${args.join(' ')} failed: ${String((lastError as { stderr?: string }).stderr ?? lastError)}\n${rollcall.output().slice(-3000)}`,
    );
  }

  /** The entry corp-ldap manages for this uid (its marker names the system), read as slapd's administrator (undefined: no entry). */
  async function ldapAccount(uid: string): Promise<LdapAccount | undefined> {
    const client = new Client({ url: slapd.url, timeout: 5000, connectTimeout: 2000 });
    await client.bind(slapd.adminDN, slapd.adminPassword);
    try {
      const { searchEntries } = await client.search(slapd.peopleDN, {
        scope: 'one',
        filter: `(&(businessCategory=rollcall:${namespace}/corp-ldap)(uid=${uid}))`,
        attributes: ['sn', 'mail', 'pwdAccountLockedTime'],
      });
      const entry = searchEntries[0];
      if (!entry) return undefined;
      const { searchEntries: groups } = await client.search(slapd.groupsDN, { scope: 'one', filter: `(member=${entry.dn})`, attributes: ['cn'] });
      return {
        sn: String(entry['sn']),
        mail: String(entry['mail']),
        locked: [entry['pwdAccountLockedTime'] ?? []].flat().length > 0,
        groups: groups.map((g) => String(g['cn'])).sort(),
      };
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  const wait = <T>(what: string, probe: () => Promise<T | undefined>) => until(what, probe, { logs: () => rollcall.output() });
  const user = (name: string) => JSON.parse(kubectlOk(['get', 'user', name, '-n', namespace, '-o', 'json']));

  beforeAll(async () => {
    execFileSync('bash', [join(ROOT, 'scripts', 'install', 'scim2-client.sh')], { stdio: 'inherit' });
    slapd = await startSlapd();
    namespace = createNamespace('scim-ldap');
    kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Secret
metadata: {name: idp-token, namespace: ${namespace}, labels: {rollcall.dev/credentials: "true"}}
stringData: {token: ${TOKEN}}
---
apiVersion: v1
kind: Secret
metadata: {name: corp-ldap-credentials, namespace: ${namespace}, labels: {rollcall.dev/credentials: "true"}, annotations: {rollcall.dev/allow-insecure: "true"}}
stringData: ${JSON.stringify({ bindDN: slapd.adminDN, password: slapd.adminPassword })}
---
apiVersion: rollcall.dev/v1alpha1
kind: IdentitySource
metadata: {name: okta, namespace: ${namespace}}
spec: {type: scim, credentialsSecretRef: {name: idp-token}}
---
apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: corp-ldap, namespace: ${namespace}}
spec:
  type: ldap
  insecure: true # the test's slapd speaks plain LDAP
  allowPrivateNetwork: true # the test servers listen on loopback
  ldap: {url: "${slapd.url}", flavour: openldap, peopleDN: "${slapd.peopleDN}", groupsDN: "${slapd.groupsDN}"}
  credentialsSecretRef: {name: corp-ldap-credentials}
  deprovision: {policy: delete}
  resyncInterval: 5s
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: remote-worker, namespace: ${namespace}}
spec: {grants: [{system: corp-ldap, entitlements: [vpn-users]}]}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: pushed-by-the-idp, namespace: ${namespace}}
spec: {role: remote-worker, userSelector: {matchLabels: {rollcall.dev/source: okta}}}
`,
    );
    const port = await freePort();
    base = `http://127.0.0.1:${port}/scim/v2`;
    rollcall = startRollcall(namespace, ['--scim-port', String(port)]);
    const ready = kubectl(['wait', '--for=condition=Ready', 'idsrc/okta', '-n', namespace, '--timeout=60s']);
    if (ready.code !== 0) throw new Error(`the scim source did not become Ready: ${ready.stderr}\n${rollcall.output()}`);
  });

  afterAll(async () => {
    await rollcall?.stop();
    await slapd?.close();
  });

  it('create: the IdP sees the User, and slapd gets the entry with its group', async () => {
    const created = await idp('create', 'Erin.Kim@example.org', 'Erin', 'Kim', 'erin.kim@example.org');
    expect(created).toEqual({ id: 'erin.kim', userName: 'Erin.Kim@example.org', familyName: 'Kim', active: true });
    const account = await wait('the LDAP entry', async () => ((await ldapAccount('erin.kim'))?.groups.length ? ldapAccount('erin.kim') : undefined));
    expect(account).toEqual({ sn: 'Kim', mail: 'erin.kim@example.org', locked: false, groups: ['vpn-users'] });
    expect(user('erin.kim').metadata.labels).toMatchObject({ 'rollcall.dev/source': 'okta' });
  });

  it('patch: a new family name reaches the entry', async () => {
    expect(await idp('patch', 'erin.kim', 'name.familyName', 'Park')).toMatchObject({ familyName: 'Park', active: true });
    await wait('sn Park', async () => ((await ldapAccount('erin.kim'))?.sn === 'Park' ? true : undefined));
  });

  it('deactivate locks the entry and keeps it; activate unlocks it', async () => {
    expect(await idp('active', 'erin.kim', 'false')).toMatchObject({ active: false });
    await wait('erin locked', async () => ((await ldapAccount('erin.kim'))?.locked ? true : undefined));
    expect(user('erin.kim').spec.state).toBe('suspended');
    expect(await ldapAccount('erin.kim')).toMatchObject({ sn: 'Park' });

    expect(await idp('active', 'erin.kim', 'true')).toMatchObject({ active: true });
    const back = await wait('erin unlocked with her group', async () => {
      const account = await ldapAccount('erin.kim');
      return account?.locked === false && account.groups.length > 0 ? account : undefined;
    });
    expect(back).toEqual({ sn: 'Park', mail: 'erin.kim@example.org', locked: false, groups: ['vpn-users'] });
  });

  it('delete: the IdP gets 404 afterwards, the User stays terminated, the entry is removed', async () => {
    expect(await idp('delete', 'erin.kim')).toEqual({ after_delete: 404 });
    expect(user('erin.kim').spec.state).toBe('terminated');
    await wait('the entry gone', async () => ((await ldapAccount('erin.kim')) === undefined ? true : undefined));
  });
});
