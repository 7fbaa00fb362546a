// Reading a feed over HTTP: the bearer token from the Secret, a conditional GET that costs nothing
// when the feed has not changed, and errors that name what to fix.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryableError, type IdentitySource } from '../../../src/api/index.ts';
import { FeedReader } from '../../../src/feeds/source-feed.ts';
import { FeedError, Rejections } from '../../../src/sources/records.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';

describe('FeedReader over HTTP', () => {
  let server: Server;
  let base: string;
  const seen: IncomingHttpHeaders[] = [];
  let body = 'id,name\n1,alice\n';
  let etag = '"v1"';

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      if (req.url === '/missing') return void res.writeHead(404).end();
      if (req.headers.authorization !== 'Bearer s3cret') return void res.writeHead(401).end();
      if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
      res.writeHead(200, { 'content-type': 'text/csv', etag }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const store = new MemoryStore(
    [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'token', namespace: 'acme', labels: { 'rollcall.dev/credentials': 'true' }, annotations: { 'rollcall.dev/allow-insecure': 'true' } },
        data: { token: 's3cret' },
      } as never,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'wrong', namespace: 'acme', labels: { 'rollcall.dev/credentials': 'true' }, annotations: { 'rollcall.dev/allow-insecure': 'true' } },
        data: { token: 'nope' },
      } as never,
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unlabelled', namespace: 'acme' }, data: { token: 's3cret' } } as never,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: 'for-ldap',
          namespace: 'acme',
          labels: { 'rollcall.dev/credentials': 'true' },
          annotations: { 'rollcall.dev/allowed-systems': 'corp-ldap' },
        },
        data: { token: 's3cret' },
      } as never,
    ],
    { logger: pino({ level: 'silent' }) },
  );
  const source = (path: string, secret = 'token'): IdentitySource =>
    ({
      apiVersion: 'rollcall.dev/v1alpha1',
      kind: 'IdentitySource',
      metadata: { name: 'hr', namespace: 'acme' },
      spec: {
        type: 'csv',
        url: `${base}${path}`,
        credentialsSecretRef: { name: secret },
        idField: 'id',
        mapping: [],
        missingPolicy: 'terminate',
        interval: '15m',
        insecure: true,
        allowPrivateNetwork: true,
        changeGuard: { maxCount: 5, maxPercent: 10 },
      },
    }) as IdentitySource;
  const signal = new AbortController().signal;

  it('sends the bearer token, then asks conditionally and reuses the body on 304', async () => {
    const reader = new FeedReader(store);
    const first = await reader.read(source('/people.csv'), new Rejections(), signal);
    expect(first.map((r) => r.fields)).toEqual([{ id: '1', name: 'alice' }]);
    const second = await reader.read(source('/people.csv'), new Rejections(), signal);
    expect(second.map((r) => r.fields)).toEqual([{ id: '1', name: 'alice' }]);
    expect(seen.at(-1)).toMatchObject({ 'if-none-match': '"v1"', authorization: 'Bearer s3cret' });
    body = 'id,name\n1,alice\n2,bob\n';
    etag = '"v2"';
    expect((await reader.read(source('/people.csv'), new Rejections(), signal)).map((r) => r.fields.name)).toEqual(['alice', 'bob']);
  });

  it('says what is wrong: refused credentials, an HTTP error, a missing Secret or ConfigMap', async () => {
    const reader = new FeedReader(store);
    await expect(reader.read(source('/people.csv', 'wrong'), new Rejections(), signal)).rejects.toThrow(
      /refused the credentials \(HTTP 401\); check Secret wrong/,
    );
    await expect(reader.read(source('/missing'), new Rejections(), signal)).rejects.toThrow('the server did not answer with a feed (HTTP 404)');
    await expect(reader.read(source('/people.csv', 'absent'), new Rejections(), signal)).rejects.toBeInstanceOf(RetryableError);
    // A Secret that did not opt in is never sent anywhere.
    const before = seen.length;
    await expect(reader.read(source('/people.csv', 'unlabelled'), new Rejections(), signal)).rejects.toThrow(
      'is not labelled rollcall.dev/credentials: "true"',
    );
    // Nor is one whose rollcall.dev/allowed-systems names other objects.
    await expect(reader.read(source('/people.csv', 'for-ldap'), new Rejections(), signal)).rejects.toThrow(
      'Secret for-ldap (spec.credentialsSecretRef) is annotated rollcall.dev/allowed-systems: "corp-ldap", which does not name hr',
    );
    expect(seen.length).toBe(before);
    const fromConfigMap = {
      ...source('/x'),
      spec: { ...source('/x').spec, url: undefined, configMapRef: { name: 'hr', key: 'people.csv' } },
    } as IdentitySource;
    await expect(reader.read(fromConfigMap, new Rejections(), signal)).rejects.toBeInstanceOf(FeedError);
  });
});
