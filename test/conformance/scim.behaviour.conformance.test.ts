// SCIM-specific behaviour beyond the shared suite, against the real scim2-server: the enterprise
// extension and manager references, the managed-scope marker, missing groups, basic auth, and
// how busy or refusing answers map onto errors. A small loopback front in this file injects the
// answers scim2-server never gives (429, 503, a 400 body) and turns basic auth into its bearer token.
import { createServer, type Server } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedSystemSpec, PermanentError, RetryableError } from '../../src/api/index.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { createScimConnector } from '../../src/connectors/scim/index.ts';
import { start, type ScimServer } from '../servers/scim.ts';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const signal = () => AbortSignal.timeout(30_000);
const logger = pino({ level: 'silent' });

interface Injected {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Forwards to the server, after first answering with each injected reply once. */
function front(server: ScimServer, basic: { username: string; password: string }) {
  const injected: Injected[] = [];
  const methods: string[] = [];
  const received: { method: string; url: string; ifMatch?: string }[] = [];
  const http: Server = createServer(async (request, response) => {
    methods.push(request.method ?? '');
    received.push({
      method: request.method ?? '',
      url: decodeURIComponent(request.url ?? ''),
      ...(request.headers['if-match'] && { ifMatch: request.headers['if-match'] }),
    });
    const next = injected.shift();
    if (next) {
      response.writeHead(next.status, { 'content-type': 'application/scim+json', ...next.headers });
      return response.end(next.body === undefined ? '' : JSON.stringify(next.body));
    }
    const expected = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
    const authorization = request.headers.authorization === expected ? `Bearer ${server.token}` : 'Bearer wrong';
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const upstream = await fetch(`${new URL(server.baseUrl).origin}${request.url}`, {
      method: request.method,
      headers: { authorization, 'content-type': 'application/scim+json', ...(request.headers['if-match'] && { 'if-match': request.headers['if-match'] }) },
      body,
    });
    const etag = upstream.headers.get('etag');
    response.writeHead(upstream.status, { 'content-type': 'application/scim+json', ...(etag && { etag }) });
    response.end(Buffer.from(await upstream.arrayBuffer()));
  });
  return { http, injected, methods, received };
}

describe('scim connector behaviour', () => {
  let server: ScimServer;
  let connector: Connector;
  let frontUrl: string;
  let injected: Injected[];
  let methods: string[];
  let received: { method: string; url: string; ifMatch?: string }[];
  let frontServer: Server;
  const basic = { username: 'rollcall', password: 'front-door-password' };

  const raw = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${server.baseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/scim+json' },
    });
    return response.json() as Promise<Record<string, unknown> & { Resources?: Record<string, unknown>[] }>;
  };
  const rawUser = async (userName: string) =>
    (await raw(`/Users?filter=${encodeURIComponent(`userName eq ${JSON.stringify(userName)}`)}`)).Resources?.find((u) => u['userName'] === userName);
  const viaFront = (timeoutMs = 3000, compatibility?: Record<string, unknown>) =>
    createScimConnector({
      // The same ConnectedSystem reached through a front: it owns the same accounts.
      system: 'test/scim',
      namespace: 'test',
      spec: connectedSystemSpec.parse({
        type: 'scim',
        insecure: true,
        allowPrivateNetwork: true,
        scim: { baseUrl: frontUrl, auth: 'basic', ...(compatibility && { compatibility }) },
      }),
      credentials: basic,
      logger,
      timeoutMs,
    });

  beforeAll(async () => {
    server = await start();
    await raw('/Groups', { method: 'POST', body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'staff' }) });
    const spec = connectedSystemSpec.parse({
      type: 'scim',
      insecure: true,
      allowPrivateNetwork: true,
      scim: { baseUrl: `${server.baseUrl}/`, auth: 'bearer' },
    });
    connector = await createScimConnector({ system: 'test/scim', namespace: 'test', spec, credentials: { token: server.token }, logger });
    ({ http: frontServer, injected, methods, received } = front(server, basic));
    await new Promise<void>((resolve) => frontServer.listen(0, '127.0.0.1', resolve));
    frontUrl = `http://127.0.0.1:${(frontServer.address() as { port: number }).port}/v2`;
  }, 120_000);

  afterAll(async () => {
    await connector?.close();
    await new Promise((resolve) => frontServer?.close(resolve));
    await server?.close();
  });

  it('offers the enterprise attributes the server supports and round-trips every canonical attribute', async () => {
    expect(connector.capabilities.attributes).toEqual(expect.arrayContaining(['employeeId', 'department', 'manager', 'email', 'employeeType']));
    const attributes = {
      givenName: 'Erin',
      familyName: 'Example',
      displayName: 'Erin Example',
      email: 'erin@example.org',
      title: 'Engineer',
      employeeType: 'contractor',
      employeeId: 'E-42',
      department: 'Platform',
      manager: 'boss',
    };
    await connector.apply({ op: 'create', account: { system: 's', userName: 'boss', state: 'present', attributes: {}, entitlements: [] } }, signal());
    await connector.apply({ op: 'create', account: { system: 's', userName: 'erin', state: 'present', attributes, entitlements: [] } }, signal());
    expect((await connector.getAccount('erin', signal()))?.attributes).toEqual(attributes);

    const stored = await rawUser('erin');
    const boss = await rawUser('boss');
    expect(stored?.['externalId']).toBe('rollcall:test/scim:erin');
    expect(stored?.['userType']).toBe('contractor');
    expect(stored?.[ENTERPRISE]).toMatchObject({ employeeNumber: 'E-42', department: 'Platform', manager: { value: boss?.['id'] } });
    expect(stored?.['emails']).toEqual([{ value: 'erin@example.org', primary: true }]);
  });

  it('removes an attribute set to null, and writes nothing when nothing differs', async () => {
    await connector.apply({ op: 'update', userName: 'erin', attributes: { department: null, title: 'Staff Engineer' } }, signal());
    const stored = await rawUser('erin');
    expect(stored?.['title']).toBe('Staff Engineer');
    expect((stored?.[ENTERPRISE] as Record<string, unknown>)['department']).toBeUndefined();
    const version = (stored?.['meta'] as { version: string }).version;
    await connector.apply({ op: 'update', userName: 'erin', attributes: { department: null, title: 'Staff Engineer' } }, signal());
    await connector.apply({ op: 'enable', userName: 'erin' }, signal());
    expect(((await rawUser('erin'))?.['meta'] as { version: string }).version).toBe(version);
  });

  it('refuses to create over a user it does not manage, and leaves that user alone', async () => {
    await raw('/Users', { method: 'POST', body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'frank' }) });
    const before = await rawUser('frank');
    const error = await connector
      .apply({ op: 'create', account: { system: 's', userName: 'frank', state: 'present', attributes: { displayName: 'Mine' }, entitlements: [] } }, signal())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/frank.*taken by an account Rollcall does not manage/);
    expect(await rawUser('frank')).toEqual(before);
  });

  it('names a group that does not exist in a permanent error', async () => {
    const error = await connector.apply({ op: 'grant', userName: 'erin', entitlement: 'no-such-group' }, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain('"no-such-group"');
  });

  it('authenticates with basic auth', async () => {
    const viaBasic = await viaFront();
    await viaBasic.check(signal());
    await viaBasic.apply({ op: 'grant', userName: 'erin', entitlement: 'staff' }, signal());
    expect((await connector.getAccount('erin', signal()))?.entitlements).toEqual(['staff']);
  });

  it('writes with PUT when the server does not support PATCH', async () => {
    // The first request is discovery's ServiceProviderConfig: announce PATCH unsupported.
    injected.push({ status: 200, body: { patch: { supported: false } } });
    const viaPut = await viaFront();
    methods.length = 0;
    await viaPut.apply({ op: 'update', userName: 'erin', attributes: { title: 'Principal', email: 'erin@corp.example' } }, signal());
    await viaPut.apply({ op: 'revoke', userName: 'erin', entitlement: 'staff' }, signal());
    await viaPut.apply({ op: 'disable', userName: 'erin' }, signal());
    expect(methods).toContain('PUT');
    expect(methods).not.toContain('PATCH');
    const stored = await rawUser('erin');
    expect(stored).toMatchObject({ title: 'Principal', active: false, emails: [{ value: 'erin@corp.example', primary: true }] });
    expect((stored?.[ENTERPRISE] as Record<string, unknown>)['employeeNumber']).toBe('E-42');
    expect(await connector.getAccount('erin', signal())).toMatchObject({ state: 'disabled', entitlements: [] });
  });

  it('waits out a 429 with Retry-After, then succeeds', async () => {
    const viaBasic = await viaFront();
    injected.push({ status: 429, headers: { 'retry-after': '1' } });
    const started = Date.now();
    await viaBasic.apply({ op: 'create', account: { system: 's', userName: 'gina', state: 'present', attributes: {}, entitlements: [] } }, signal());
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((await rawUser('gina'))?.['externalId']).toBe('rollcall:test/scim:gina');
  });

  it('gives a retryable error with retryAfterMs when the server stays busy', async () => {
    const viaBasic = await viaFront(2000);
    injected.push(...Array.from({ length: 5 }, () => ({ status: 503, headers: { 'retry-after': '30' } })));
    const started = Date.now();
    const error = await viaBasic.getAccount('gina', signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterMs).toBe(30_000);
    expect(Date.now() - started).toBeLessThan(2000);
    injected.length = 0;
  });

  it('gives a permanent error with the SCIM detail for a refused request', async () => {
    const viaBasic = await viaFront();
    await viaBasic.getAccount('gina', signal()); // discovery done, so the next answer is the update's look-up
    injected.push({
      status: 400,
      body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidValue', detail: 'title is too long' },
    });
    const error = await viaBasic.apply({ op: 'update', userName: 'gina', attributes: { title: 'x' } }, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/HTTP 400 \(scimType invalidValue, title is too long\)/);
    expect((error as Error).message).not.toContain(basic.password);
  });

  it('reads what the server supports once per connection, and follows spec.scim.compatibility over it', async () => {
    received.length = 0;
    // scim2-server declares PATCH, filters and ETags; the setting says: eq only, no filtered paths, pages of 1.
    const restricted = await viaFront(5000, { filterOperators: ['eq'], filteredPaths: false, pageSize: 1 });
    for await (const _ of restricted.listAccounts(signal()));
    await restricted.apply({ op: 'grant', userName: 'erin', entitlement: 'staff' }, signal());
    await restricted.apply({ op: 'revoke', userName: 'erin', entitlement: 'staff' }, signal());
    for (const endpoint of ['ServiceProviderConfig', 'ResourceTypes', 'Schemas'])
      expect(
        received.filter((r) => r.url === `/v2/${endpoint}`),
        endpoint,
      ).toHaveLength(1);
    const urls = received.map((r) => r.url);
    expect(urls.some((url) => / sw /.test(url))).toBe(false);
    expect(urls.filter((url) => url.startsWith('/v2/Users?')).every((url) => url.includes('count=1'))).toBe(true);
    // The grant is a PATCH add; the removal, without filtered paths, a GET + PUT of the member list made against the version read.
    expect(received.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    const put = received.find((r) => r.method === 'PUT');
    expect(put?.url).toMatch(/^\/v2\/Groups\//);
    expect(put?.ifMatch).toBeTruthy();
    expect(received.some((r) => r.url.includes('members['))).toBe(false);
    expect((await connector.getAccount('erin', signal()))?.entitlements).toEqual([]);
    await restricted.close();
  });

  it('two connectors granting one group at once without PATCH lose nothing: the PUT carries If-Match, and a 412 reads the group again', async () => {
    await raw('/Groups', { method: 'POST', body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'replicated' }) });
    const spec = connectedSystemSpec.parse({
      type: 'scim',
      insecure: true,
      allowPrivateNetwork: true,
      scim: { baseUrl: server.baseUrl, auth: 'bearer', compatibility: { patch: false } },
    });
    // Two replicas of the same system: each queues its own writes, only the server's ETags order the two.
    const replicas = [
      await createScimConnector({ system: 'test/scim', namespace: 'test', spec, credentials: { token: server.token }, logger }),
      await createScimConnector({ system: 'test/scim', namespace: 'test', spec, credentials: { token: server.token }, logger }),
    ];
    const names = ['rep1', 'rep2', 'rep3', 'rep4', 'rep5', 'rep6'];
    for (const userName of names)
      await connector.apply({ op: 'create', account: { system: 's', userName, state: 'present', attributes: {}, entitlements: [] } }, signal());
    const members = async () => {
      const group = (await raw(`/Groups?filter=${encodeURIComponent('displayName eq "replicated"')}`)).Resources?.[0] as { members?: { value: string }[] };
      const ids = new Set((group.members ?? []).map((m) => m.value));
      const held: string[] = [];
      for (const name of names) if (ids.has(String((await rawUser(name))?.['id']))) held.push(name);
      return held;
    };
    try {
      for (let round = 1; round <= 5; round++) {
        await Promise.all(names.map((userName, i) => replicas[i % 2]!.apply({ op: 'grant', userName, entitlement: 'replicated' }, signal())));
        expect(await members(), `round ${round}, after the grants`).toEqual(names);
        await Promise.all(names.map((userName, i) => replicas[i % 2]!.apply({ op: 'revoke', userName, entitlement: 'replicated' }, signal())));
        expect(await members(), `round ${round}, after the revokes`).toEqual([]);
      }
    } finally {
      for (const replica of replicas) await replica.close();
    }
  }, 120_000);

  it('refuses a server where externalId, which holds the ownership marker, cannot be written, and says so', async () => {
    const unmarkable = await viaFront(3000, { externalIdWritable: false });
    try {
      const error = await unmarkable.check(signal()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as Error).message).toMatch(/externalId/);
      const refused = await unmarkable
        .apply({ op: 'create', account: { system: 's', userName: 'hana', state: 'present', attributes: {}, entitlements: [] } }, signal())
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(PermanentError);
      expect(await rawUser('hana')).toBeUndefined();
    } finally {
      await unmarkable.close();
    }
  });
});
