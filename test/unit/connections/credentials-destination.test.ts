// Credentials bound to a destination, on the controllers' side with real sockets: a Secret annotated
// rollcall.dev/allowed-hosts is sent only to the hosts it lists, a plaintext transport needs its
// rollcall.dev/allow-insecure consent, and a refused destination receives not even a connection,
// also when the object is re-pointed while the Secret's earlier read is still cached. A feed read
// over HTTP never carries the credentials through a redirect to another origin.
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedSystemResource, identitySourceResource, type ConnectedSystem, type IdentitySource } from '../../../src/api/index.ts';
import { Connections } from '../../../src/connections/connections.ts';
import { CredentialsRefusedError, credentialsRefusal } from '../../../src/connections/credentials.ts';
import { FeedReader } from '../../../src/feeds/source-feed.ts';
import { Rejections } from '../../../src/sources/records.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';

const logger = pino({ level: 'silent' });
const signal = new AbortController().signal;

/** A TCP listener that counts the connections it accepts and the bytes it receives. */
async function listener(): Promise<{ server: Server; port: number; accepted: () => number; bytes: () => number }> {
  let accepted = 0;
  let bytes = 0;
  const server = createServer((socket) => {
    accepted++;
    socket.on('data', (chunk) => (bytes += chunk.length));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, accepted: () => accepted, bytes: () => bytes };
}

const secret = (name: string, annotations: Record<string, string>, data: Record<string, string>) =>
  ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'acme', labels: { 'rollcall.dev/credentials': 'true' }, annotations }, data }) as never;

describe('ConnectedSystem credentials bound to a destination', () => {
  let allowedServer: Awaited<ReturnType<typeof listener>>;
  let attacker: Awaited<ReturnType<typeof listener>>;
  let store: MemoryStore;
  let connections: Connections;

  beforeAll(async () => {
    allowedServer = await listener();
    attacker = await listener();
    const bind = { bindDN: 'cn=admin,dc=example,dc=org', password: 'directory-s3cret' };
    store = new MemoryStore(
      [
        secret('pinned', { 'rollcall.dev/allowed-hosts': `127.0.0.1:${allowedServer.port}`, 'rollcall.dev/allow-insecure': 'true' }, bind),
        secret('no-consent', {}, bind),
        secret('consents', { 'rollcall.dev/allow-insecure': 'true' }, bind),
      ],
      { logger },
    );
    connections = new Connections({ store, logger, timeoutMs: 2_000 });
  });
  afterAll(async () => {
    await connections.closeAll();
    allowedServer.server.close();
    attacker.server.close();
  });

  const ldapSystem = (url: string, credentials: string, insecure = true): ConnectedSystem =>
    connectedSystemResource.parse({
      apiVersion: 'rollcall.dev/v1alpha1',
      kind: 'ConnectedSystem',
      metadata: { name: 'corp-ldap', namespace: 'acme' },
      spec: {
        type: 'ldap',
        insecure,
        allowPrivateNetwork: true,
        ldap: { url, peopleDN: 'ou=people,dc=example,dc=org', groupsDN: 'ou=groups,dc=example,dc=org' },
        credentialsSecretRef: { name: credentials },
      },
    });
  const check = (system: ConnectedSystem) => connections.use(system, (connector) => connector.check(AbortSignal.timeout(2_000)));

  it('refuses a host the Secret does not list, naming the Secret and the annotation, before connecting', async () => {
    // First the listed host: the read is cached, and the check reaches it (it is no LDAP server, so it fails later).
    await expect(check(ldapSystem(`ldap://127.0.0.1:${allowedServer.port}`, 'pinned'))).rejects.not.toBeInstanceOf(CredentialsRefusedError);
    expect(allowedServer.accepted()).toBeGreaterThan(0);
    // Then re-pointed at another listener within the cache's lifetime: checked again, refused, nothing sent.
    const refusal = check(ldapSystem(`ldap://127.0.0.1:${attacker.port}`, 'pinned'));
    await expect(refusal).rejects.toBeInstanceOf(CredentialsRefusedError);
    await expect(refusal).rejects.toThrow(
      `ConnectedSystem corp-ldap: Secret pinned is annotated rollcall.dev/allowed-hosts: "127.0.0.1:${allowedServer.port}", which does not include 127.0.0.1:${attacker.port}, where spec.ldap.url (ldap://127.0.0.1:${attacker.port}) would send its credentials`,
    );
    // The same host on another port is another destination.
    await expect(check(ldapSystem(`ldap://localhost:${allowedServer.port}`, 'pinned'))).rejects.toThrow('which does not include localhost:');
    expect(attacker.accepted()).toBe(0);
  });

  it('refuses a plaintext transport unless the Secret consents, and never sends the password', async () => {
    const refusal = check(ldapSystem(`ldap://127.0.0.1:${attacker.port}`, 'no-consent'));
    await expect(refusal).rejects.toBeInstanceOf(CredentialsRefusedError);
    await expect(refusal).rejects.toThrow(
      'ConnectedSystem corp-ldap: spec.ldap.url is ldap:// without startTLS, and Secret no-consent (spec.credentialsSecretRef) is not annotated rollcall.dev/allow-insecure: "true", so its credentials may not cross a plaintext connection',
    );
    await expect(refusal).rejects.not.toThrow('directory-s3cret');
    expect(attacker.accepted()).toBe(0);
    // With the consent, the connection is made (and fails: the listener is no LDAP server).
    await expect(check(ldapSystem(`ldap://127.0.0.1:${attacker.port}`, 'consents'))).rejects.not.toBeInstanceOf(CredentialsRefusedError);
    expect(attacker.accepted()).toBeGreaterThan(0);
  });

  it('a keycloak url is held to the same list, and to the plaintext consent', async () => {
    const system = (credentials: string) =>
      connectedSystemResource.parse({
        apiVersion: 'rollcall.dev/v1alpha1',
        kind: 'ConnectedSystem',
        metadata: { name: 'sso', namespace: 'acme' },
        spec: {
          type: 'keycloak',
          insecure: true,
          allowPrivateNetwork: true,
          keycloak: { url: `http://127.0.0.1:${attacker.port}`, realm: 'acme' },
          credentialsSecretRef: { name: credentials },
        },
      });
    const before = attacker.accepted();
    await expect(check(system('pinned'))).rejects.toThrow(`where spec.keycloak.url (http://127.0.0.1:${attacker.port}) would send its credentials`);
    await expect(check(system('no-consent'))).rejects.toThrow(
      'spec.keycloak.url is http://, and Secret no-consent (spec.credentialsSecretRef) is not annotated rollcall.dev/allow-insecure',
    );
    expect(attacker.accepted()).toBe(before);
  });

  it('a postgres host and a scim baseUrl are held to the same list', async () => {
    const system = (spec: Record<string, unknown>) =>
      connectedSystemResource.parse({
        apiVersion: 'rollcall.dev/v1alpha1',
        kind: 'ConnectedSystem',
        metadata: { name: 'other', namespace: 'acme' },
        spec: { ...spec, credentialsSecretRef: { name: 'pinned' } },
      });
    const before = attacker.accepted();
    await expect(check(system({ type: 'postgres', insecure: true, postgres: { host: '127.0.0.1', port: attacker.port, ssl: 'disable' } }))).rejects.toThrow(
      `which does not include 127.0.0.1:${attacker.port}, where spec.postgres.host (127.0.0.1:${attacker.port})`,
    );
    await expect(check(system({ type: 'postgres', postgres: { host: '/var/run/postgresql', port: allowedServer.port } }))).rejects.toThrow(
      'and spec.postgres.host (/var/run/postgresql:' + allowedServer.port + ') names no host and port that list could admit',
    );
    await expect(check(system({ type: 'scim', insecure: true, scim: { baseUrl: `http://127.0.0.1:${attacker.port}/scim/v2` } }))).rejects.toThrow(
      `where spec.scim.baseUrl (http://127.0.0.1:${attacker.port}/scim/v2) would send its credentials`,
    );
    expect(attacker.accepted()).toBe(before);
  });
});

describe('credentialsRefusal', () => {
  const metadata = (annotations: Record<string, string>) => ({ labels: { 'rollcall.dev/credentials': 'true' }, annotations });
  const use = { field: 'spec.ldap.url', destination: { url: 'ldaps://ldap.example.org' } };

  it('says which entries of a mistyped list match nothing, and admits a listed host', () => {
    expect(
      credentialsRefusal('bind', 'spec.credentialsSecretRef', metadata({ 'rollcall.dev/allowed-hosts': 'ldaps://ldap.example.org, *' }), 'corp-ldap', use),
    ).toBe(
      'Secret bind is annotated rollcall.dev/allowed-hosts: "ldaps://ldap.example.org, *", which does not include ldap.example.org:636, where spec.ldap.url (ldaps://ldap.example.org) would send its credentials ' +
        '(entries that are not a host, host:port or *.domain[:port] match nothing: "ldaps://ldap.example.org", "*")',
    );
    expect(
      credentialsRefusal('bind', 'spec.credentialsSecretRef', metadata({ 'rollcall.dev/allowed-hosts': 'LDAP.example.org.:636' }), 'corp-ldap', use),
    ).toBeUndefined();
  });

  it('checks the object name first, then the host, then the plaintext consent; without a use, only the first', () => {
    const all = metadata({ 'rollcall.dev/allowed-systems': 'other', 'rollcall.dev/allowed-hosts': 'elsewhere.example.org' });
    expect(credentialsRefusal('bind', 'spec.credentialsSecretRef', all, 'corp-ldap', use)).toContain('does not name corp-ldap');
    const plaintext = { ...use, plaintext: 'spec.ldap.url is ldap:// without startTLS' };
    expect(
      credentialsRefusal('bind', 'spec.credentialsSecretRef', metadata({ 'rollcall.dev/allowed-hosts': 'elsewhere.example.org' }), 'corp-ldap', plaintext),
    ).toContain('allowed-hosts');
    expect(credentialsRefusal('bind', 'spec.credentialsSecretRef', metadata({}), 'corp-ldap', plaintext)).toContain(
      'is not annotated rollcall.dev/allow-insecure: "true"',
    );
    expect(credentialsRefusal('bind', 'spec.credentialsSecretRef', metadata({ 'rollcall.dev/allow-insecure': 'yes' }), 'corp-ldap', plaintext)).toContain(
      'allow-insecure',
    ); // only "true" consents
    expect(
      credentialsRefusal('bind', 'spec.credentialsSecretRef', metadata({ 'rollcall.dev/allow-insecure': 'true' }), 'corp-ldap', plaintext),
    ).toBeUndefined();
    expect(
      credentialsRefusal('bind', 'spec.credentialsSecretRef', metadata({ 'rollcall.dev/allowed-hosts': 'elsewhere.example.org' }), 'corp-ldap'),
    ).toBeUndefined();
  });
});

describe('IdentitySource credentials bound to a destination', () => {
  let origin: HttpServer;
  let elsewhere: HttpServer;
  let originPort: number;
  let elsewherePort: number;
  const seenElsewhere: IncomingHttpHeaders[] = [];
  let ldapListener: Awaited<ReturnType<typeof listener>>;

  beforeAll(async () => {
    elsewhere = createHttpServer((req, res) => {
      seenElsewhere.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/csv' }).end('id\n1\n');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    elsewherePort = (elsewhere.address() as AddressInfo).port;
    origin = createHttpServer((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${elsewherePort}/people.csv` }).end());
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originPort = (origin.address() as AddressInfo).port;
    ldapListener = await listener();
  });
  afterAll(() => {
    origin.close();
    elsewhere.close();
    ldapListener.server.close();
  });

  const store = () =>
    new MemoryStore(
      [
        secret('feed-token', { 'rollcall.dev/allowed-hosts': `127.0.0.1:${originPort}`, 'rollcall.dev/allow-insecure': 'true' }, { token: 'feed-s3cret' }),
        secret('ldap-bind', {}, { bindDN: 'cn=reader,dc=example,dc=org', password: 'reader-s3cret' }),
      ],
      { logger },
    );
  const source = (spec: Record<string, unknown>): IdentitySource =>
    identitySourceResource.parse({
      apiVersion: 'rollcall.dev/v1alpha1',
      kind: 'IdentitySource',
      metadata: { name: 'hr', namespace: 'acme' },
      spec: { insecure: true, allowPrivateNetwork: true, ...spec },
    });

  it('a redirect to another origin does not carry the token (fetch drops Authorization), so checking the url covers every hop that does', async () => {
    const records = await new FeedReader(store()).read(
      source({ type: 'csv', url: `http://127.0.0.1:${originPort}/people.csv`, idField: 'id', credentialsSecretRef: { name: 'feed-token' } }),
      new Rejections(),
      signal,
    );
    expect(records.map((r) => r.fields)).toEqual([{ id: '1' }]);
    expect(seenElsewhere).toHaveLength(1);
    expect(seenElsewhere[0]!.authorization).toBeUndefined();
  });

  it('refuses a url on a host the Secret does not list, before any request', async () => {
    const read = new FeedReader(store()).read(
      source({ type: 'csv', url: `http://127.0.0.1:${elsewherePort}/people.csv`, idField: 'id', credentialsSecretRef: { name: 'feed-token' } }),
      new Rejections(),
      signal,
    );
    await expect(read).rejects.toBeInstanceOf(CredentialsRefusedError);
    await expect(read).rejects.toThrow(
      `Secret feed-token is annotated rollcall.dev/allowed-hosts: "127.0.0.1:${originPort}", which does not include 127.0.0.1:${elsewherePort}, where spec.url`,
    );
    expect(seenElsewhere).toHaveLength(1);
  });

  it('refuses a plaintext ldap:// source whose Secret did not consent, before connecting', async () => {
    const ldap = { url: `ldap://127.0.0.1:${ldapListener.port}`, baseDN: 'ou=people,dc=example,dc=org', insecure: true };
    const read = new FeedReader(store()).read(source({ type: 'ldap', ldap, credentialsSecretRef: { name: 'ldap-bind' } }), new Rejections(), signal);
    await expect(read).rejects.toThrow(
      'spec.ldap.url is ldap:// without startTLS, and Secret ldap-bind (spec.credentialsSecretRef) is not annotated rollcall.dev/allow-insecure: "true"',
    );
    expect(ldapListener.accepted()).toBe(0);
  });

  it('counts ldap:// with startTLS as encrypted, as for a ConnectedSystem: the same Secret needs no consent to plaintext', async () => {
    const ldap = { url: `ldap://127.0.0.1:${ldapListener.port}`, baseDN: 'ou=people,dc=example,dc=org', startTLS: true };
    // The listener never answers the StartTLS request: the read ends when its signal aborts.
    const read = new FeedReader(store()).read(
      source({ type: 'ldap', ldap, credentialsSecretRef: { name: 'ldap-bind' } }),
      new Rejections(),
      AbortSignal.timeout(300),
    );
    await expect(read).rejects.not.toBeInstanceOf(CredentialsRefusedError);
    expect(ldapListener.accepted()).toBe(1);
  });
});
