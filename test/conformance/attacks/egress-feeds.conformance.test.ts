// Issue 17, hole 6 (SSRF in sources), with the real FeedReader: a csv feed URL may not reach
// loopback, link-local or cluster-internal addresses unless the source sets
// spec.allowPrivateNetwork, whether the URL names the address, a DNS name resolves to it, or a
// redirect leads there; nothing is even attempted. Feed bodies are capped while they stream in,
// every failure to connect reads the same (no port scanner), a ConfigMap must opt in, and
// credentials never go over http:// without spec.insecure.
// Names like hr.example.test resolve only through the injected resolver: no packet leaves the host.
import { lookup, type LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, identitySourceSpec, type IdentitySource } from '../../../src/api/index.ts';
import { clusterRanges } from '../../../src/connectors/egress/addresses.ts';
import { PrivateNetworkRefusedError, type Resolver } from '../../../src/connectors/egress/guard.ts';
import { SourceDataRefusedError } from '../../../src/feeds/source-data.ts';
import { FeedReader } from '../../../src/feeds/source-feed.ts';
import { FeedError, Rejections } from '../../../src/sources/records.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import { recordConnectionAttempts, type ConnectionAttempts } from '../../helpers/connection-attempts.ts';

/** A loopback HTTP server that counts the connections and requests it got. */
async function countingServer(host: string, handle: (url: string, res: import('node:http').ServerResponse) => void) {
  const seen = { connections: 0, requests: [] as string[] };
  const server: Server = createServer((req, res) => {
    seen.requests.push(req.url ?? '');
    handle(req.url ?? '', res);
  });
  server.on('connection', (socket: Socket) => {
    seen.connections++;
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    server,
    seen,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const INTERNAL: Record<string, string> = { 'hr.example.test': '10.0.0.1', 'metadata.example.test': '169.254.169.254' };

describe('egress from identity sources', () => {
  let feed: Awaited<ReturnType<typeof countingServer>>;
  let elsewhere: Awaited<ReturnType<typeof countingServer>>;
  const resolved: string[] = [];
  const resolve: Resolver = (hostname, _options, callback) => {
    resolved.push(hostname);
    if (hostname === 'localhost') return void lookup(hostname, { all: true }, callback);
    const address = INTERNAL[hostname];
    if (address) return callback(null, [{ address, family: 4 } satisfies LookupAddress]);
    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
  };
  let attempts: ConnectionAttempts;

  const store = new MemoryStore(
    [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'token', namespace: 'acme', labels: { 'rollcall.dev/credentials': 'true' } },
        data: { token: 's3cret' },
      } as never,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'app-config', namespace: 'acme' },
        data: { 'people.csv': 'id\ndb-password-is-hunter2\n' },
      } as never,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'hr-feed', namespace: 'acme', labels: { 'rollcall.dev/source-data': 'true' } },
        data: { 'people.csv': 'id\nalice\n' },
      } as never,
    ],
    { logger: pino({ level: 'silent' }) },
  );
  const source = (spec: Record<string, unknown>): IdentitySource => ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'IdentitySource',
    metadata: { name: 'hr', namespace: 'acme' },
    spec: identitySourceSpec.parse({ type: 'csv', idField: 'id', ...spec }),
  });
  const reader = (maxBytes?: number) =>
    new FeedReader(store, { egress: { clusterRanges: clusterRanges(['10.0.0.0/8']), resolve }, ...(maxBytes ? { maxBytes } : {}) });
  const read = (spec: Record<string, unknown>, maxBytes?: number) => reader(maxBytes).read(source(spec), new Rejections(), AbortSignal.timeout(20_000));

  beforeAll(async () => {
    feed = await countingServer('127.0.0.1', (url, res) => {
      if (url === '/people.csv') return void res.writeHead(200, { 'content-type': 'text/csv' }).end('id\nalice\n');
      if (url === '/to-self') return void res.writeHead(302, { location: '/people.csv' }).end();
      if (url === '/to-other-loopback') return void res.writeHead(302, { location: `http://127.0.0.2:${elsewhere.port}/people.csv` }).end();
      if (url === '/to-metadata') return void res.writeHead(307, { location: 'http://metadata.example.test/latest/meta-data/iam/' }).end();
      if (url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
      if (url === '/missing') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('internal: db-password-is-hunter2');
      if (url === '/huge' || url === '/huge-declared') {
        const chunk = Buffer.alloc(64 * 1024, 'a');
        if (url === '/huge-declared') res.writeHead(200, { 'content-length': String(256 * 1024 * 1024) });
        let sent = 0;
        const pump = () => {
          while (sent < 256 * 1024 * 1024 && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => feed.seen.requests.push(`sent ${sent}`));
        return pump();
      }
      res.writeHead(500).end();
    });
    elsewhere = await countingServer('127.0.0.2', (_url, res) => void res.writeHead(200).end('id\nsecret-from-elsewhere\n'));
  });
  afterAll(async () => {
    await feed?.close();
    await elsewhere?.close();
  });
  beforeEach(() => {
    attempts = recordConnectionAttempts();
    resolved.length = 0;
    feed.seen.connections = 0;
    feed.seen.requests.length = 0;
    elsewhere.seen.connections = 0;
  });
  afterEach(() => attempts.stop());

  it('refuses a loopback URL without spec.allowPrivateNetwork, naming the field, and connects to nothing', async () => {
    const refused = read({ url: `http://127.0.0.1:${feed.port}/people.csv` });
    await expect(refused).rejects.toThrow(PrivateNetworkRefusedError);
    await expect(refused).rejects.toThrow('spec.url is 127.0.0.1, a loopback address; set spec.allowPrivateNetwork: true to allow it');
    await expect(read({ url: `http://[::ffff:127.0.0.1]:${feed.port}/people.csv` })).rejects.toThrow('spec.url is ::ffff:7f00:1, a loopback address');
    await expect(read({ url: `http://localhost:${feed.port}/people.csv` })).rejects.toThrow(/spec\.url resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(attempts.attempts).toEqual([]);
    expect(feed.seen.connections).toBe(0);
  });

  it('refuses a name that resolves to a cluster-internal or link-local address before any connection', async () => {
    await expect(read({ url: 'http://hr.example.test/people.csv' })).rejects.toThrow(
      'spec.url resolves to 10.0.0.1, a cluster-internal address; set spec.allowPrivateNetwork: true to allow it',
    );
    await expect(read({ url: 'https://metadata.example.test/latest/meta-data/' })).rejects.toThrow(
      'spec.url resolves to 169.254.169.254, a link-local address',
    );
    await expect(read({ url: 'http://169.254.169.254/latest/meta-data/' })).rejects.toThrow('spec.url is 169.254.169.254, a link-local address');
    expect(resolved).toEqual(['hr.example.test', 'metadata.example.test']); // the literal address needs no resolver
    expect(attempts.attempts).toEqual([]);
  });

  it('with spec.allowPrivateNetwork reads the declared host, and follows a redirect on it', async () => {
    expect((await read({ url: `http://127.0.0.1:${feed.port}/to-self`, allowPrivateNetwork: true })).map((r) => r.fields.id)).toEqual(['alice']);
    expect(feed.seen.requests).toEqual(['/to-self', '/people.csv']);
  });

  it('re-checks every redirect: another host gets no private address, even with spec.allowPrivateNetwork', async () => {
    await expect(read({ url: `http://127.0.0.1:${feed.port}/to-other-loopback`, allowPrivateNetwork: true })).rejects.toThrow(
      `spec.url (redirected to 127.0.0.2:${elsewhere.port}) is 127.0.0.2, a loopback address`,
    );
    expect(elsewhere.seen.connections).toBe(0);
    await expect(read({ url: `http://127.0.0.1:${feed.port}/to-metadata`, allowPrivateNetwork: true })).rejects.toThrow(
      'spec.url (redirected to metadata.example.test) resolves to 169.254.169.254, a link-local address',
    );
    expect(attempts.attempts.every((a) => a.address === '127.0.0.1')).toBe(true);
    await expect(read({ url: `http://127.0.0.1:${feed.port}/loop`, allowPrivateNetwork: true })).rejects.toThrow(
      'could not read spec.url: more than 5 redirects',
    );
  });

  it('stops reading a body past the cap, while it streams, and says so', async () => {
    for (const path of ['/huge', '/huge-declared']) {
      const reading = read({ url: `http://127.0.0.1:${feed.port}${path}`, allowPrivateNetwork: true }, 1024 * 1024);
      await expect(reading).rejects.toThrow(FeedError);
      await expect(reading).rejects.toThrow("spec.url's feed is larger than 1048576 bytes, the most Rollcall reads (rollcall run --feed-max-bytes)");
    }
    await expect.poll(() => feed.seen.requests.filter((r) => r.startsWith('sent ')).length).toBe(2);
    // The server was cut off long before it sent its 256 MiB.
    for (const sent of feed.seen.requests.filter((r) => r.startsWith('sent '))) expect(Number(sent.slice(5))).toBeLessThan(64 * 1024 * 1024);
  });

  it('says one thing for every failure to connect, and never repeats what the server answered', async () => {
    const closed = await countingServer('127.0.0.1', () => undefined);
    await closed.close();
    const refusedPort = read({ url: `http://127.0.0.1:${closed.port}/people.csv`, allowPrivateNetwork: true }).catch((e: Error) => e.message);
    const notTls = read({ url: `https://127.0.0.1:${feed.port}/people.csv`, allowPrivateNetwork: true }).catch((e: Error) => e.message);
    const generic = 'could not read spec.url: no answer from the server (it may be down, unreachable, or its certificate not accepted)';
    expect(await refusedPort).toBe(generic);
    expect(await notTls).toBe(generic);
    const missing = await read({ url: `http://127.0.0.1:${feed.port}/missing`, allowPrivateNetwork: true }).catch((e: Error) => e.message);
    expect(missing).toBe('could not read spec.url: the server did not answer with a feed (HTTP 404)');
  });

  it('refuses credentials over http:// without spec.insecure, before sending anything', async () => {
    const refused = read({ url: `http://127.0.0.1:${feed.port}/people.csv`, allowPrivateNetwork: true, credentialsSecretRef: { name: 'token' } });
    await expect(refused).rejects.toThrow(PermanentError);
    await expect(refused).rejects.toThrow(
      'spec.url is plaintext http:// and spec.credentialsSecretRef sends credentials: use https:// or set spec.insecure: true',
    );
    expect(feed.seen.connections).toBe(0);
  });

  it('reads only a ConfigMap labelled rollcall.dev/source-data: "true"', async () => {
    const refused = read({ configMapRef: { name: 'app-config', key: 'people.csv' } });
    await expect(refused).rejects.toThrow(SourceDataRefusedError);
    await expect(refused).rejects.toThrow(
      'ConfigMap app-config (spec.configMapRef) is not labelled rollcall.dev/source-data: "true", so it may not serve as a feed',
    );
    expect((await read({ configMapRef: { name: 'hr-feed', key: 'people.csv' } })).map((r) => r.fields.id)).toEqual(['alice']);
  });
});
