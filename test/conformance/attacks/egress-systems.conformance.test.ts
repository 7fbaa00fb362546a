// Issue 17, "Egress" for ConnectedSystems: an ldap, postgres or scim system aimed at a loopback,
// link-local or cluster-internal address is refused unless it sets spec.allowPrivateNetwork, by the
// name of the field, before any connection is attempted; and a SCIM system's errors never carry
// what an internal service answered. The listeners here only count: nothing must reach them.
// Names like scim.example.test resolve only through the injected resolver: no packet leaves the host.
import type { LookupAddress } from 'node:dns';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectedSystemSpec, errorMessage, type ConnectedSystem } from '../../../src/api/index.ts';
import { clusterRanges } from '../../../src/connectors/egress/addresses.ts';
import { privateNetworkRefusal, type Resolver } from '../../../src/connectors/egress/guard.ts';
import { Connections } from '../../../src/connections/connections.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { recordConnectionAttempts, type ConnectionAttempts } from '../../helpers/connection-attempts.ts';
import { credentialsSecret } from '../../helpers/credentials-secret.ts';

const INTERNAL: Record<string, string> = {
  'sso.example.test': '10.0.0.1',
  'scim.example.test': '10.0.0.1',
  'db.example.test': '169.254.169.254',
  'ldap.example.test': '10.0.0.1',
};
const logger = pino({ level: 'silent' });

describe('egress from connected systems', () => {
  let listener: Server;
  let port: number;
  let connections = 0;
  let attempts: ConnectionAttempts;
  const resolved: string[] = [];
  const resolve: Resolver = (hostname, _options, callback) => {
    resolved.push(hostname);
    const address = INTERNAL[hostname];
    if (address) return callback(null, [{ address, family: 4 } satisfies LookupAddress]);
    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
  };
  const store = new MemoryStore(
    [credentialsSecret('creds', { bindDN: 'cn=admin', username: 'admin', password: 'pw', token: 't0ken' }, { namespace: 'team-a' })],
    {
      logger,
    },
  );
  const system = (name: string, spec: Record<string, unknown>): ConnectedSystem => ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'ConnectedSystem',
    metadata: { name, namespace: 'team-a', generation: 1 },
    spec: connectedSystemSpec.parse({ insecure: true, credentialsSecretRef: { name: 'creds' }, ...spec }),
  });
  const check = async (target: ConnectedSystem): Promise<unknown> => {
    const pool = new Connections({ store, logger, timeoutMs: 5_000, egress: { clusterRanges: clusterRanges(['10.0.0.0/8']), resolve } });
    try {
      await pool.use(target, (connector) => connector.check(AbortSignal.timeout(5_000)));
      return undefined;
    } catch (error) {
      return error;
    } finally {
      await pool.closeAll();
    }
  };
  const ldap = (url: string) => ({ type: 'ldap', ldap: { url, peopleDN: 'ou=people,dc=acme', groupsDN: 'ou=groups,dc=acme' } });
  const postgres = (host: string) => ({ type: 'postgres', postgres: { host, port, ssl: 'disable' } });
  const scim = (baseUrl: string) => ({ type: 'scim', scim: { baseUrl } });
  const keycloak = (url: string) => ({ type: 'keycloak', keycloak: { url, realm: 'acme' } });

  beforeAll(async () => {
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((done) => listener.listen(0, '127.0.0.1', done));
    port = (listener.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((done) => listener.close(() => done())));
  beforeEach(() => {
    attempts = recordConnectionAttempts();
    resolved.length = 0;
    connections = 0;
  });
  afterEach(() => attempts.stop());

  it.each([
    ['ldap', ldap(`ldap://127.0.0.1:${0}`), 'spec.ldap.url is 127.0.0.1, a loopback address'],
    ['ldaps to ::1', ldap('ldaps://[::1]:636'), 'spec.ldap.url is ::1, a loopback address'],
    ['postgres', postgres('127.0.0.1'), 'spec.postgres.host is 127.0.0.1, a loopback address'],
    ['postgres on a mapped address', postgres('::ffff:127.0.0.1'), 'spec.postgres.host is ::ffff:127.0.0.1, a loopback address'],
    ['scim', scim(`http://127.0.0.1:${0}/scim/v2`), 'spec.scim.baseUrl is 127.0.0.1, a loopback address'],
    ['keycloak', keycloak(`http://127.0.0.1:${0}`), 'spec.keycloak.url is 127.0.0.1, a loopback address'],
  ])('refuses %s at a loopback address, naming the field, and sends nothing', async (_name, spec, message) => {
    const fixed = JSON.parse(JSON.stringify(spec).replaceAll(':0', `:${port}`)) as Record<string, unknown>;
    const error = await check(system('target', fixed));
    expect(privateNetworkRefusal(error)?.message).toBe(`${message}; set spec.allowPrivateNetwork: true to allow it`);
    expect(attempts.attempts).toEqual([]);
    expect(connections).toBe(0);
  });

  it.each([
    ['scim', scim('https://scim.example.test/scim/v2'), 'spec.scim.baseUrl resolves to 10.0.0.1, a cluster-internal address'],
    ['postgres', postgres('db.example.test'), 'spec.postgres.host resolves to 169.254.169.254, a link-local address'],
    ['ldap', ldap('ldap://ldap.example.test:389'), 'spec.ldap.url resolves to 10.0.0.1, a cluster-internal address'],
    ['keycloak', keycloak('https://sso.example.test'), 'spec.keycloak.url resolves to 10.0.0.1, a cluster-internal address'],
  ])('refuses a %s name that resolves to a private address before connecting', async (_name, spec, message) => {
    const error = await check(system('target', spec));
    expect(privateNetworkRefusal(error)?.message).toBe(`${message}; set spec.allowPrivateNetwork: true to allow it`);
    expect(resolved.length).toBeGreaterThan(0);
    expect(attempts.attempts).toEqual([]);
  });

  it('with spec.allowPrivateNetwork the same system connects', async () => {
    const error = await check(system('target', { ...postgres('127.0.0.1'), allowPrivateNetwork: true }));
    expect(privateNetworkRefusal(error)).toBeUndefined();
    expect(connections).toBeGreaterThan(0);
  });

  it("never repeats an internal service's answer in a keycloak system's errors; Keycloak's own error code is kept", async () => {
    const bodies = [
      { type: 'text/html', body: '<html>internal: db-password-is-hunter2</html>' },
      { type: 'application/json', body: JSON.stringify({ error: 'internal: db-password-is-hunter2', error_description: 'db-password-is-hunter2' }) },
      { type: 'application/json', body: JSON.stringify('internal: db-password-is-hunter2') },
      { type: 'application/json', body: JSON.stringify({ error: 'invalid_client', error_description: 'Invalid client or Invalid client credentials' }) },
    ];
    // /<i>/realms/...: the i-th body, whatever the request (the token request comes first).
    const internal = createHttpServer((request, response) => {
      const { type, body } = bodies[Number(request.url?.split('/')[1])]!;
      response.writeHead(401, { 'content-type': type }).end(body);
    });
    await new Promise<void>((done) => internal.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
      const messages: string[] = [];
      for (let i = 0; i < bodies.length; i++)
        messages.push(errorMessage(await check(system(`internal-${i}`, { ...keycloak(`${url}/${i}`), allowPrivateNetwork: true }))));
      for (const message of messages) expect(message).not.toContain('hunter2');
      expect(messages.slice(0, 3).every((m) => m.includes('authentication failed for team-a/internal-') && m.includes('(HTTP 401)'))).toBe(true);
      expect(messages[3]).toContain('(HTTP 401 (invalid_client: Invalid client or Invalid client credentials))');
    } finally {
      internal.closeAllConnections();
      await new Promise<void>((done) => internal.close(() => done()));
    }
  });

  it("never repeats an internal service's answer in a SCIM system's errors; a SCIM error document's detail is kept, short", async () => {
    const bodies = [
      { type: 'text/html', body: '<html>internal: db-password-is-hunter2</html>' },
      { type: 'application/json', body: JSON.stringify({ error: 'internal: db-password-is-hunter2' }) },
      { type: 'application/json', body: JSON.stringify('internal: db-password-is-hunter2') },
      {
        type: 'application/scim+json',
        body: JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status: '400',
          scimType: 'invalidValue',
          detail: `bad\u0000value ${'x'.repeat(500)}`,
        }),
      },
    ];
    // /scim/v2/<i>/...: the i-th body, whatever the request.
    const internal = createHttpServer((request, response) => {
      const { type, body } = bodies[Number(request.url?.split('/')[3])]!;
      response.writeHead(400, { 'content-type': type }).end(body);
    });
    await new Promise<void>((done) => internal.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${(internal.address() as AddressInfo).port}/scim/v2`;
      const messages: string[] = [];
      for (let i = 0; i < bodies.length; i++)
        messages.push(errorMessage(await check(system(`internal-${i}`, { ...scim(`${url}/${i}`), allowPrivateNetwork: true }))));
      for (const message of messages) expect(message).not.toContain('hunter2');
      expect(messages.slice(0, 3).every((m) => m.endsWith('was refused: HTTP 400'))).toBe(true);
      expect(messages[3]).toMatch(/HTTP 400 \(scimType invalidValue, bad value x{100,}…\)$/);
      expect(messages[3]!.length).toBeLessThan(300);
    } finally {
      internal.closeAllConnections();
      await new Promise<void>((done) => internal.close(() => done()));
    }
  });
});
