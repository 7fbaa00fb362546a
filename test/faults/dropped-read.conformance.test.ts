// A read whose connection is reset before any answer is sent again: the SCIM connector against the
// real scim2-server behind the fault proxy. Before, one reset failed the whole sync of that account
// and, when the check that followed was reset too, opened the system's circuit: at 15 % resets
// (test/faults/slow-system) 30 Users never converged in SCIM within 3 minutes. A write is not sent
// again (the server may have applied it); that is still the work queue's to retry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryableError } from '../../src/api/index.ts';
import { startProxiedScim, type ProxiedScim } from './proxied-scim.ts';

describe('a dropped connection', () => {
  let scim: ProxiedScim;

  beforeAll(async () => {
    scim = await startProxiedScim();
  });

  afterAll(async () => {
    await scim?.close();
  });

  it('under a read is sent again, and the read succeeds', async () => {
    scim.proxy.set({ fault: (n) => (n === 1 ? { kind: 'reset' } : { kind: 'forward' }) });
    const before = scim.proxy.requests.length;
    await expect(scim.connector.getAccount('nobody', AbortSignal.timeout(30_000))).resolves.toBeUndefined();
    expect(scim.proxy.requests.slice(before).map((r) => `${r.method} ${r.fault}`)).toEqual(['GET reset', 'GET forward']);
  });

  it('under a write is not sent again: a retryable error for the work queue', async () => {
    scim.proxy.set({ fault: (n, request) => (request.method === 'POST' ? { kind: 'reset' } : { kind: 'forward' }) });
    const before = scim.proxy.requests.length;
    const error = await scim.connector
      .apply({ op: 'create', account: { system: 'wiki', userName: 'dora', state: 'present', attributes: {}, entitlements: [] } }, AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect(scim.proxy.requests.slice(before).filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});
