// Retry-After is the whole system's, not one request's: the SCIM connector against the real
// scim2-server behind the fault proxy. One request is answered 429 with Retry-After: 3; requests
// made while that wait runs must not reach the server before it has passed, and all of them then
// succeed. Before, only the answered request waited: the others went straight to a server that had
// just asked for quiet (a rate limit answers every client's next request 429 again).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxiedScim, type ProxiedScim } from './proxied-scim.ts';

const RETRY_AFTER_S = 3;

describe('a 429 with Retry-After holds back every request to that system', () => {
  let scim: ProxiedScim;

  beforeAll(async () => {
    scim = await startProxiedScim();
  });

  afterAll(async () => {
    await scim?.close();
  });

  it('requests made during the wait reach the server only after it, and succeed', async () => {
    scim.proxy.set({ fault: (n) => (n === 1 ? { kind: 'status', status: 429, retryAfterSeconds: RETRY_AFTER_S } : { kind: 'forward' }) });
    const first = scim.connector.getAccount('nobody-0', AbortSignal.timeout(30_000));
    // Once the 429 has been answered, more requests for other accounts.
    const answeredAt = await (async () => {
      for (;;) {
        const limited = scim.proxy.requests.find((r) => r.fault === 429);
        if (limited) return limited.atMs;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const others = Array.from({ length: 6 }, (_, i) => scim.connector.getAccount(`nobody-${i + 1}`, AbortSignal.timeout(30_000)));
    const results = await Promise.all([first, ...others]);

    expect(results).toEqual(Array(7).fill(undefined)); // no such accounts: each call got its answer
    const later = scim.proxy.requests.filter((r) => r.atMs > answeredAt);
    expect(later.length).toBeGreaterThanOrEqual(7);
    // Not one before the time asked for (a little slack for timers, none for a request sent at once).
    expect(later.map((r) => Math.round(r.atMs - answeredAt)).filter((ms) => ms < RETRY_AFTER_S * 1000 - 100)).toEqual([]);
  });
});
