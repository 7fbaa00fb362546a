// Inbound SCIM costs O(1) Secret reads per request whatever the number of scim sources: with 300
// sources in the cluster, a bogus token reads no Secret and a valid one only its own. Before the
// token index, every request read 2 Secrets per source (600 here). /Bulk is off (501).
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from '../../../src/clock/clock.ts';
import { startScimServer, type ScimServer } from '../../../src/scim-inbound/scim-server.ts';
import { SWEEP_MS } from '../../../src/scim-inbound/scim-tokens.ts';
import { MemoryStore } from '../../../src/store/memory-store.ts';
import type { AnyResource, ObjectKey } from '../../../src/store/store.ts';

const SOURCES = 300;
const secret = (namespace: string, name: string, token: string) =>
  ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'rollcall.dev/credentials': 'true' } },
    data: { token },
  }) as unknown as AnyResource;
const scimSource = (namespace: string, name: string, secretName: string) =>
  ({
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'IdentitySource',
    metadata: { name, namespace },
    spec: { type: 'scim', credentialsSecretRef: { name: secretName } },
  }) as unknown as AnyResource;

describe('inbound SCIM with 300 scim sources', () => {
  let store: MemoryStore;
  let server: ScimServer;
  let base = '';
  const reads: string[] = [];
  /** Secrets whose token was changed after the start, as another client would change them. */
  const rotated = new Map<string, Record<string, string>>();
  const clock = new TestClock(new Date('2026-12-01T00:00:00Z'));
  const count = async (request: () => Promise<Response>) => {
    reads.length = 0;
    const response = await request();
    return { status: response.status, body: await response.text(), reads: [...reads] };
  };
  const get = (path: string, token: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    const objects: AnyResource[] = [];
    for (let i = 0; i < SOURCES; i++) {
      const namespace = `team-${i % 30}`;
      objects.push(secret(namespace, `scim-${i}`, `token-of-source-${i}`), scimSource(namespace, `okta-${i}`, `scim-${i}`));
    }
    store = new MemoryStore(objects, { logger: pino({ level: 'silent' }) });
    // Count every Secret read the SCIM server makes, as the API server would see them.
    const getSecret = store.getSecret.bind(store);
    const getSecretMetadata = store.getSecretMetadata.bind(store);
    store.getSecret = async (key: ObjectKey) => (reads.push(`get ${key.namespace}/${key.name}`), rotated.get(`${key.namespace}/${key.name}`) ?? getSecret(key));
    store.getSecretMetadata = async (key: ObjectKey) => (reads.push(`metadata ${key.namespace}/${key.name}`), getSecretMetadata(key));
    server = await startScimServer({ store, logger: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', clock });
    base = `http://127.0.0.1:${server.port}/scim/v2`;
    await get('/Users', 'warm-up'); // waits for the first index
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a bogus token is refused and reads no Secret', async () => {
    const result = await count(() => get('/Users', 'not-a-token'));
    expect(result.status).toBe(401);
    expect(result.reads).toEqual([]);
  });

  it("a valid token is served and reads only its own source's Secret, once", async () => {
    const result = await count(() => get('/Users', 'token-of-source-217'));
    expect(result.status).toBe(200);
    expect(result.reads.filter((r) => r.startsWith('get '))).toEqual(['get team-7/scim-217']);
    expect(result.reads.filter((r) => r.startsWith('metadata '))).toEqual(['metadata team-7/scim-217']);
  });

  it('a revoked token is refused at once; a rotated one is served from the next sweep', async () => {
    rotated.set('team-7/scim-217', { token: 'rotated-token' });
    expect((await count(() => get('/Users', 'rotated-token'))).status).toBe(401);
    expect((await count(() => get('/Users', 'token-of-source-217'))).status).toBe(401);
    clock.advance(SWEEP_MS);
    await expect.poll(async () => (await get('/Users', 'rotated-token')).status, { timeout: 10_000 }).toBe(200);
  });

  it('/Bulk is off: 501, and /ServiceProviderConfig says so', async () => {
    const bulk = await fetch(`${base}/Bulk`, {
      method: 'POST',
      headers: { authorization: 'Bearer token-of-source-3', 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] }),
    });
    expect(bulk.status).toBe(501);
    const config = (await (await get('/ServiceProviderConfig', 'token-of-source-3')).json()) as { bulk: { supported: boolean } };
    expect(config.bulk.supported).toBe(false);
  });
});
