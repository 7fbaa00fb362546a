// Issue 17, hole 8: opted-in credentials went to any host. rollcall.dev/allowed-systems narrows a
// Secret by object name only, so whoever may edit that ConnectedSystem re-pointed it at a listener of
// their own (with insecure: true) and received the bind DN and password. On the real API server, as
// a team-a writer (RBAC on the Rollcall kinds, no Secrets), against a real slapd: a Secret pinned with
// rollcall.dev/allowed-hosts provisions at the host it names (the positive control) and refuses the
// writer's listener; a Secret without rollcall.dev/allow-insecure refuses a plaintext connection. The
// listener counts what it receives: not one connection, so not one byte of the credentials.
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EMPTY_GROUP_PLACEHOLDER } from '../../../src/connectors/ldap/index.ts';
import { start as startSlapd, type SlapdServer } from '../../servers/slapd.ts';
import { createNamespace, kubectl, kubectlOk } from '../kube.ts';
import { eventually, startRollcall, type RollcallRun } from '../rollcall-run.ts';

const ROLLCALL = join(import.meta.dirname, '..', '..', '..', 'bin', 'rollcall.js');
const WRITER = ['--as', 'mallory', '--as-group', 'team-a-writers'];

describe('credentials bound to a destination', () => {
  let slapd: SlapdServer;
  let slapdPort: number;
  let listener: Server;
  let listenerPort: number;
  let accepted = 0;
  let received = 0;
  let namespace: string;
  let rollcall: RollcallRun | undefined;

  const asWriter = (args: string[], input?: string) => kubectlOk([...WRITER, '-n', namespace, ...args], input);
  const condition = (system: string, type: string) => {
    const csys = JSON.parse(kubectlOk(['get', 'connectedsystem', system, '-n', namespace, '-o', 'json']));
    return (csys.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
  };
  const withLdap = async <T>(fn: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ url: slapd.url, timeout: 5000, connectTimeout: 2000 });
    await client.bind(slapd.adminDN, slapd.adminPassword);
    try {
      return await fn(client);
    } finally {
      await client.unbind();
    }
  };
  const ldapSystem = (name: string, url: string, secret: string) => `apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  type: ldap
  insecure: true
  allowPrivateNetwork: true
  ldap: {url: "${url}", peopleDN: "${slapd.peopleDN}", groupsDN: "${slapd.groupsDN}"}
  credentialsSecretRef: {name: ${secret}}
  resyncInterval: 3s
`;

  beforeAll(async () => {
    slapd = await startSlapd();
    slapdPort = Number(new URL(slapd.url).port);
    await withLdap((client) => client.add(`cn=staff,${slapd.groupsDN}`, { objectClass: ['groupOfNames'], cn: 'staff', member: [EMPTY_GROUP_PLACEHOLDER] }));
    // The writer's own listener, somewhere a writer could run one: it only counts.
    listener = createServer((socket) => {
      accepted++;
      socket.on('data', (chunk) => (received += chunk.length));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    listenerPort = (listener.address() as AddressInfo).port;

    namespace = createNamespace('attack-creds');
    // The admin's part: who may write what, and the Secrets (the writer can neither read nor write them).
    const bind = JSON.stringify({ bindDN: slapd.adminDN, password: slapd.adminPassword });
    kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: rollcall-writer, namespace: ${namespace}}
rules: [{apiGroups: [rollcall.dev], resources: [connectedsystems, users, accessroles, accessbindings, identitysources, accessreviews], verbs: [get, list, watch, create, update, patch, delete]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rollcall-writers, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: rollcall-writer}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: team-a-writers}]
---
apiVersion: v1
kind: Secret
metadata:
  name: directory-pinned
  namespace: ${namespace}
  labels: {rollcall.dev/credentials: "true"}
  annotations: {rollcall.dev/allowed-hosts: "127.0.0.1:${slapdPort}", rollcall.dev/allow-insecure: "true"}
stringData: ${bind}
---
apiVersion: v1
kind: Secret
metadata: {name: directory-any-host, namespace: ${namespace}, labels: {rollcall.dev/credentials: "true"}}
stringData: ${bind}
`,
    );
    expect(kubectl([...WRITER, 'auth', 'can-i', 'get', 'secrets', '-n', namespace]).stdout.trim()).toBe('no');
    asWriter(
      ['apply', '-f', '-'],
      `${ldapSystem('corp-ldap', slapd.url, 'directory-pinned')}---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: staff, namespace: ${namespace}}
spec: {grants: [{system: corp-ldap, entitlements: [staff]}]}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: staff, namespace: ${namespace}}
spec: {role: staff, users: [alice]}
---
apiVersion: rollcall.dev/v1alpha1
kind: User
metadata: {name: alice, namespace: ${namespace}}
spec: {userName: alice, givenName: Alice, familyName: Smith}
`,
    );
    rollcall = startRollcall(namespace);
  });

  afterAll(async () => {
    await rollcall?.stop();
    await new Promise((resolve) => listener?.close(resolve));
    await slapd?.close();
  });

  it('(c) with the consent and the host the Secret lists, Users converge (the positive control)', async () => {
    await eventually(() => expect(condition('corp-ldap', 'Connected')).toMatchObject({ status: 'True' }), rollcall);
    const alice = await eventually(async () => {
      const { searchEntries } = await withLdap((client) => client.search(slapd.peopleDN, { filter: '(uid=alice)', attributes: ['memberOf'] }));
      expect(searchEntries).toHaveLength(1);
      return searchEntries[0]!;
    }, rollcall);
    expect([alice.memberOf].flat()).toEqual([`cn=staff,${slapd.groupsDN}`]);
  });

  it('(a) re-pointed by the writer at their own listener: refused, naming the Secret and the annotation, and nothing reaches it', async () => {
    asWriter([
      'patch',
      'connectedsystem',
      'corp-ldap',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { ldap: { url: `ldap://127.0.0.1:${listenerPort}` } } }),
    ]);
    const expected =
      `ConnectedSystem corp-ldap: Secret directory-pinned is annotated rollcall.dev/allowed-hosts: "127.0.0.1:${slapdPort}", which does not include 127.0.0.1:${listenerPort}, ` +
      `where spec.ldap.url (ldap://127.0.0.1:${listenerPort}) would send its credentials`;
    await eventually(
      () => expect(condition('corp-ldap', 'Connected')).toMatchObject({ status: 'False', reason: 'CredentialsRefused', message: expected }),
      rollcall,
    );
    expect(condition('corp-ldap', 'Ready')).toMatchObject({ status: 'False', reason: 'CredentialsRefused' });
    // Said once as a Warning Event, which never carries the Secret's values.
    const events = kubectlOk(['get', 'events', '-n', namespace, '--field-selector', 'reason=CredentialsRefused,involvedObject.name=corp-ldap', '-o', 'json']);
    const messages = JSON.parse(events).items.map((e: { message: string; type: string; count?: number }) => [e.type, e.message]);
    expect(messages).toContainEqual(['Warning', expected]);
    expect(events).not.toContain(slapd.adminPassword);
    expect(events).not.toContain(slapd.adminDN);
    // Several resyncs and a User pass later, the listener has still seen nothing.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect({ accepted, received }).toEqual({ accepted: 0, received: 0 });
  });

  it('(a) rollcall plan reports the refusal as an error for that system and sends nothing either', () => {
    const plan = spawnSync(process.execPath, [ROLLCALL, 'plan', '--kubeconfig', inject('kubeconfig'), '--namespace', namespace], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(plan.status, plan.stderr).toBe(1);
    expect(plan.stdout).toContain(
      `error: ConnectedSystem corp-ldap: Secret directory-pinned is annotated rollcall.dev/allowed-hosts: "127.0.0.1:${slapdPort}", which does not include 127.0.0.1:${listenerPort}`,
    );
    expect(plan.stdout + plan.stderr).not.toContain(slapd.adminPassword);
    expect({ accepted, received }).toEqual({ accepted: 0, received: 0 });
  });

  it("(b) insecure: true towards the writer's listener without the Secret's allow-insecure: refused before anything is sent", async () => {
    asWriter(['apply', '-f', '-'], ldapSystem('side-ldap', `ldap://127.0.0.1:${listenerPort}`, 'directory-any-host'));
    const expected =
      'ConnectedSystem side-ldap: spec.ldap.url is ldap:// without startTLS, and Secret directory-any-host (spec.credentialsSecretRef) is not annotated rollcall.dev/allow-insecure: "true", ' +
      'so its credentials may not cross a plaintext connection';
    await eventually(
      () => expect(condition('side-ldap', 'Connected')).toMatchObject({ status: 'False', reason: 'CredentialsRefused', message: expected }),
      rollcall,
    );
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect({ accepted, received }).toEqual({ accepted: 0, received: 0 });
  });

  it('an IdentitySource reading the directory with the pinned Secret is held to the same hosts', async () => {
    asWriter(
      ['apply', '-f', '-'],
      `apiVersion: rollcall.dev/v1alpha1
kind: IdentitySource
metadata: {name: hr, namespace: ${namespace}}
spec:
  type: ldap
  allowPrivateNetwork: true
  ldap: {url: "ldap://127.0.0.1:${listenerPort}", baseDN: "${slapd.peopleDN}", insecure: true}
  credentialsSecretRef: {name: directory-pinned}
  idField: uid
  mapping: [{to: userName, from: uid}]
  interval: 5m
`,
    );
    const ready = () =>
      (JSON.parse(kubectlOk(['get', 'identitysource', 'hr', '-n', namespace, '-o', 'json'])).status?.conditions ?? []).find(
        (c: { type: string }) => c.type === 'Ready',
      );
    await eventually(
      () =>
        expect(ready()).toMatchObject({
          status: 'False',
          reason: 'CredentialsRefused',
          message: `Secret directory-pinned is annotated rollcall.dev/allowed-hosts: "127.0.0.1:${slapdPort}", which does not include 127.0.0.1:${listenerPort}, where spec.ldap.url (ldap://127.0.0.1:${listenerPort}) would send its credentials`,
        }),
      rollcall,
    );
    expect({ accepted, received }).toEqual({ accepted: 0, received: 0 });
  });

  it('pointed back at the host the Secret lists, the system connects again', async () => {
    asWriter(['patch', 'connectedsystem', 'corp-ldap', '--type', 'merge', '-p', JSON.stringify({ spec: { ldap: { url: slapd.url } } })]);
    await eventually(() => expect(condition('corp-ldap', 'Connected')).toMatchObject({ status: 'True' }), rollcall);
    expect({ accepted, received }).toEqual({ accepted: 0, received: 0 });
  });
});
