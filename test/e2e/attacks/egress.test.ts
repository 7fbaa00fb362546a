// Issue 17, hole 6 (SSRF and plaintext in sources) and "Egress", on the real API server with
// objects a team-a writer applies through kubectl: a feed or a system aimed at a loopback,
// link-local or cluster-internal address is refused, naming the field, and nothing reaches the
// address; a redirect is checked like the URL; a huge feed is cut off; a ConfigMap must opt in;
// http:// with credentials is refused by the API server; a SCIM system's status never repeats what
// an internal service answered. With spec.allowPrivateNetwork the object says so (PrivateNetwork=True).
// The operator runs in this process with --cluster-cidr 10.0.0.0/8 and a resolver that maps
// *.example.test to private addresses, so no packet leaves the host.
import type { LookupAddress } from 'node:dns';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterRanges } from '../../../src/connectors/egress/addresses.ts';
import type { Resolver } from '../../../src/connectors/egress/guard.ts';
import { Manager } from '../../../src/controllers/manager.ts';
import { KubeStore, loadKubeConfig } from '../../../src/store/kube-store.ts';
import { capturedLogger } from '../../helpers/captured-logger.ts';
import { createNamespace, kubectl, kubectlOk } from '../kube.ts';
import { eventually } from '../../helpers/eventually.ts';

const INTERNAL: Record<string, string> = { 'hr.example.test': '10.0.0.1', 'metadata.example.test': '169.254.169.254' };
const SECRET_BODY = 'internal-only: db-password-is-hunter2';

describe('egress of sources and systems, applied by a team-a writer', () => {
  let namespace: string;
  let manager: Manager;
  let feed: HttpServer;
  let feedPort: number;
  let other: HttpServer;
  let otherPort: number;
  let listener: Server;
  let listenerPort: number;
  const feedConnections = { count: 0 };
  const otherConnections = { count: 0 };
  const listenerConnections = { count: 0 };
  const resolve: Resolver = (hostname, _options, callback) => {
    const address = INTERNAL[hostname];
    if (address) return callback(null, [{ address, family: 4 } satisfies LookupAddress]);
    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
  };

  const asWriter = (args: string[], input?: string) => kubectl(['--as', 'mallory', '-n', namespace, ...args], input);
  const applyAsWriter = (manifest: string) => {
    const result = asWriter(['apply', '-f', '-'], manifest);
    if (result.code !== 0) throw new Error(`kubectl apply as mallory failed: ${result.stderr}`);
  };
  const conditionOf = (kind: string, name: string, type: string) => {
    const object = JSON.parse(kubectlOk(['get', kind, name, '-n', namespace, '-o', 'json']));
    return (object.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
  };
  const users = () => kubectlOk(['get', 'users', '-n', namespace, '-o', 'name']).trim();
  const events = () => kubectlOk(['get', 'events', '-n', namespace, '-o', 'json']);
  const source = (name: string, spec: string) => `apiVersion: rollcall.dev/v1alpha1
kind: IdentitySource
metadata: {name: ${name}, namespace: ${namespace}}
spec: {type: csv, idField: id, interval: 1h, ${spec}}
`;
  const system = (name: string, spec: string) => `apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: ${name}, namespace: ${namespace}}
spec: {insecure: true, credentialsSecretRef: {name: creds}, resyncInterval: 1h, ${spec}}
`;

  beforeAll(async () => {
    namespace = createNamespace('egress');
    kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: rollcall-writer, namespace: ${namespace}}
rules:
  - {apiGroups: [rollcall.dev], resources: ["*"], verbs: [get, list, create, update, patch, delete]}
  - {apiGroups: [""], resources: [configmaps, secrets], verbs: [get, list, create, update, patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: mallory-writes, namespace: ${namespace}}
subjects: [{kind: User, name: mallory, apiGroup: rbac.authorization.k8s.io}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: rollcall-writer}
`,
    );
    const count = (server: HttpServer | Server, counter: { count: number }) =>
      server.on('connection', (socket) => {
        counter.count++;
        socket.on('error', () => undefined);
      });
    feed = createHttpServer((request, response) => {
      if (request.url === '/people.csv')
        return void response.writeHead(200, { 'content-type': 'text/csv' }).end(`id\n${SECRET_BODY.replace(/[^a-z0-9-]/g, '')}\n`);
      if (request.url === '/to-elsewhere') return void response.writeHead(302, { location: `http://127.0.0.2:${otherPort}/people.csv` }).end();
      if (request.url === '/huge') {
        // 8 MiB against a cap of 1 MiB.
        for (let i = 0; i < 128; i++) response.write(Buffer.alloc(64 * 1024, 'a'));
        return void response.end();
      }
      if (request.url?.startsWith('/scim/v2')) return void response.writeHead(500, { 'content-type': 'text/html' }).end(`<html>${SECRET_BODY}</html>`);
      response.writeHead(404).end(SECRET_BODY);
    });
    count(feed, feedConnections);
    other = createHttpServer((_request, response) => void response.writeHead(200).end('id\nfrom-elsewhere\n'));
    count(other, otherConnections);
    listener = createServer((socket) => socket.destroy());
    count(listener, listenerConnections);
    await new Promise<void>((done) => feed.listen(0, '127.0.0.1', done));
    await new Promise<void>((done) => other.listen(0, '127.0.0.2', done));
    await new Promise<void>((done) => listener.listen(0, '127.0.0.1', done));
    feedPort = (feed.address() as AddressInfo).port;
    otherPort = (other.address() as AddressInfo).port;
    listenerPort = (listener.address() as AddressInfo).port;

    // The writer's credentials Secret: opted in (and consenting to plaintext, for the insecure systems).
    applyAsWriter(`apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ${namespace}, labels: {rollcall.dev/credentials: "true"}, annotations: {rollcall.dev/allow-insecure: "true"}}
stringData: {token: t0ken, username: admin, password: pw, bindDN: "cn=admin,dc=acme"}
`);
    const { logger } = capturedLogger('warn');
    const store = new KubeStore({ kubeconfig: loadKubeConfig(inject('kubeconfig')), namespace, logger });
    manager = new Manager({ store, logger, timeoutMs: 3_000, egress: { clusterRanges: clusterRanges(['10.0.0.0/8']), resolve }, feedMaxBytes: 1024 * 1024 });
    await manager.start();
  });

  afterAll(async () => {
    await manager?.stop();
    feed?.closeAllConnections();
    other?.closeAllConnections();
    for (const server of [feed, other, listener]) if (server) await new Promise<void>((done) => server.close(() => done()));
  });

  it('refuses a csv source at a loopback URL without allowPrivateNetwork: nothing reaches the server, no User is created', async () => {
    applyAsWriter(source('loopback', `url: "http://127.0.0.1:${feedPort}/people.csv"`));
    await eventually(() =>
      expect(conditionOf('idsrc', 'loopback', 'Ready')).toMatchObject({
        status: 'False',
        reason: 'PrivateNetworkRefused',
        message: 'spec.url is 127.0.0.1, a loopback address; set spec.allowPrivateNetwork: true to allow it',
      }),
    );
    expect(feedConnections.count).toBe(0);
    expect(users()).toBe('');
  });

  it('refuses a public-looking name that resolves to a cluster-internal or link-local address', async () => {
    applyAsWriter(source('cluster-internal', 'url: "https://hr.example.test/people.csv"'));
    applyAsWriter(source('metadata', 'url: "http://metadata.example.test/latest/meta-data/"'));
    await eventually(() =>
      expect(conditionOf('idsrc', 'cluster-internal', 'Ready')).toMatchObject({
        reason: 'PrivateNetworkRefused',
        message: 'spec.url resolves to 10.0.0.1, a cluster-internal address; set spec.allowPrivateNetwork: true to allow it',
      }),
    );
    await eventually(() =>
      expect(conditionOf('idsrc', 'metadata', 'Ready')).toMatchObject({
        reason: 'PrivateNetworkRefused',
        message: 'spec.url resolves to 169.254.169.254, a link-local address; set spec.allowPrivateNetwork: true to allow it',
      }),
    );
    expect(users()).toBe('');
  });

  it('with allowPrivateNetwork shows PrivateNetwork=True, and still refuses a redirect to another private host', async () => {
    applyAsWriter(source('redirected', `url: "http://127.0.0.1:${feedPort}/to-elsewhere", allowPrivateNetwork: true`));
    await eventually(() =>
      expect(conditionOf('idsrc', 'redirected', 'Ready')).toMatchObject({
        reason: 'PrivateNetworkRefused',
        message: `spec.url (redirected to 127.0.0.2:${otherPort}) is 127.0.0.2, a loopback address; set spec.allowPrivateNetwork: true to allow it`,
      }),
    );
    expect(conditionOf('idsrc', 'redirected', 'PrivateNetwork')).toMatchObject({ status: 'True', reason: 'PrivateNetworkAllowed' });
    expect(conditionOf('idsrc', 'loopback', 'PrivateNetwork')).toBeUndefined();
    expect(otherConnections.count).toBe(0);
    expect(users()).toBe('');
  });

  it('cuts a feed body off at the cap and says so', async () => {
    applyAsWriter(source('huge', `url: "http://127.0.0.1:${feedPort}/huge", allowPrivateNetwork: true`));
    await eventually(() =>
      expect(conditionOf('idsrc', 'huge', 'Ready')).toMatchObject({
        reason: 'FeedUnreadable',
        message: "spec.url's feed is larger than 1048576 bytes, the most Rollcall reads (rollcall run --feed-max-bytes); nothing was read from it",
      }),
    );
  });

  it('the API server refuses http:// with credentials unless insecure is set', () => {
    const refused = asWriter(['apply', '-f', '-'], source('plaintext', 'url: "http://hr.example.org/people.csv", credentialsSecretRef: {name: creds}'));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('spec.url: Invalid value');
    expect(refused.stderr).toContain('spec.url is plaintext http:// and spec.credentialsSecretRef sends credentials: use https:// or set spec.insecure: true');
    expect(
      asWriter(['apply', '--dry-run=server', '-f', '-'], source('plaintext', 'url: "https://hr.example.org/people.csv", credentialsSecretRef: {name: creds}'))
        .code,
    ).toBe(0);
  });

  it('reads no ConfigMap that did not opt in with rollcall.dev/source-data', async () => {
    applyAsWriter(`apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: ${namespace}}
data: {people.csv: "id\\nhunter2\\n"}
`);
    applyAsWriter(source('from-config', 'configMapRef: {name: app-config, key: people.csv}'));
    await eventually(() =>
      expect(conditionOf('idsrc', 'from-config', 'Ready')).toMatchObject({
        reason: 'SourceDataRefused',
        message: 'ConfigMap app-config (spec.configMapRef) is not labelled rollcall.dev/source-data: "true", so it may not serve as a feed',
      }),
    );
    expect(users()).toBe('');
  });

  it('refuses ldap, postgres and scim systems at 127.0.0.1 without allowPrivateNetwork, naming the field, and sends nothing', async () => {
    applyAsWriter(system('dir', `type: ldap, ldap: {url: "ldap://127.0.0.1:${listenerPort}", peopleDN: "ou=people,dc=acme", groupsDN: "ou=groups,dc=acme"}`));
    applyAsWriter(system('db', `type: postgres, postgres: {host: "127.0.0.1", port: ${listenerPort}, ssl: disable}`));
    applyAsWriter(system('app', `type: scim, scim: {baseUrl: "http://127.0.0.1:${listenerPort}/scim/v2"}`));
    for (const [name, field] of [
      ['dir', 'spec.ldap.url'],
      ['db', 'spec.postgres.host'],
      ['app', 'spec.scim.baseUrl'],
    ] as const) {
      await eventually(() =>
        expect(conditionOf('csys', name, 'Connected')).toMatchObject({
          status: 'False',
          reason: 'PrivateNetworkRefused',
          message: `ConnectedSystem ${name}: ${field} is 127.0.0.1, a loopback address; set spec.allowPrivateNetwork: true to allow it`,
        }),
      );
      expect(conditionOf('csys', name, 'PrivateNetwork')).toBeUndefined();
    }
    expect(listenerConnections.count).toBe(0);
  });

  it("a SCIM system's status and Events never repeat what an internal service answered", async () => {
    applyAsWriter(system('internal', `type: scim, allowPrivateNetwork: true, scim: {baseUrl: "http://127.0.0.1:${feedPort}/scim/v2"}`));
    await eventually(() =>
      expect(conditionOf('csys', 'internal', 'Connected')).toMatchObject({ status: 'False', message: expect.stringContaining('HTTP 500') }),
    );
    expect(conditionOf('csys', 'internal', 'PrivateNetwork')).toMatchObject({
      status: 'True',
      reason: 'PrivateNetworkAllowed',
      message: expect.stringContaining('spec.scim.baseUrl'),
    });
    expect(kubectlOk(['get', 'csys', 'internal', '-n', namespace, '-o', 'json'])).not.toContain('hunter2');
    expect(events()).not.toContain('hunter2');
    for (const name of ['loopback', 'cluster-internal', 'metadata', 'redirected', 'huge', 'from-config'])
      expect(kubectlOk(['get', 'idsrc', name, '-n', namespace, '-o', 'json'])).not.toContain('hunter2');
  });
});
