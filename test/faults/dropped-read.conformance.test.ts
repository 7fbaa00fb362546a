// A read whose connection is reset before any answer is sent again: the SCIM connector against the
// real scim2-server behind the fault proxy. Before, one reset failed the whole sync of that account
// and, when the check that followed was reset too, opened the system's circuit: at 15 % resets
// (test/faults/slow-system) 30 Users never converged in SCIM within 3 minutes. A write is not sent
// again (the server may have applied it); that is still the work queue's to retry.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedSystemSpec, RetryableError } from '../../src/api/index.ts';
import { createScimConnector } from '../../src/connectors/scim/index.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { start, type ScimServer } from '../servers/scim.ts';
import { HttpFaultProxy } from './http-fault-proxy.ts';

describe('a dropped connection', () => {
  let server: ScimServer;
  let proxy: HttpFaultProxy;
  let connector: Connector;

  beforeAll(async () => {
    server = await start({ durable: false });
    proxy = await HttpFaultProxy.start(server.baseUrl);
    connector = await createScimConnector({
      system: 'acme/wiki',
      namespace: 'acme',
      spec: connectedSystemSpec.parse({
        type: 'scim',
        insecure: true,
        allowPrivateNetwork: true,
        scim: { baseUrl: proxy.via(server.baseUrl), auth: 'bearer' },
      }),
      credentials: { token: server.token },
      logger: pino({ level: 'silent' }),
      timeoutMs: 10_000,
    });
    await connector.check(AbortSignal.timeout(30_000)); // discovery done before the tests
  });

  afterAll(async () => {
    await connector?.close();
    await proxy?.close();
    await server?.close();
  });

  it('under a read is sent again, and the read succeeds', async () => {
    proxy.set({ fault: (n) => (n === 1 ? { kind: 'reset' } : { kind: 'forward' }) });
    const before = proxy.requests.length;
    await expect(connector.getAccount('nobody', AbortSignal.timeout(30_000))).resolves.toBeUndefined();
    expect(proxy.requests.slice(before).map((r) => `${r.method} ${r.fault}`)).toEqual(['GET reset', 'GET forward']);
  });

  it('under a write is not sent again: a retryable error for the work queue', async () => {
    proxy.set({ fault: (n, request) => (request.method === 'POST' ? { kind: 'reset' } : { kind: 'forward' }) });
    const before = proxy.requests.length;
    const error = await connector
      .apply({ op: 'create', account: { system: 'wiki', userName: 'dora', state: 'present', attributes: {}, entitlements: [] } }, AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect(proxy.requests.slice(before).filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});
