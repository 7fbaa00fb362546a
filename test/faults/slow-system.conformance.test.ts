// A slow and flaky system: scim2-server is reached through a loopback HTTP proxy (http-fault-proxy.ts)
// while a watching standalone `rollcall run` also serves slapd and PostgreSQL directly. Phase by phase
// the proxy adds latency, resets connections, answers 500/503, and answers 429 with Retry-After, while
// Users join, move and leave. In every phase LDAP and PostgreSQL must converge the batch in about the
// time a batch takes with nothing wrong, SCIM must converge it too, the requests it took must stay
// within a few times what a clean batch takes, and after a 429 with Retry-After no new request may
// reach the server before that time has passed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChurn, type Churn } from './churn.ts';
import { HttpFaultProxy, type FaultRules } from './http-fault-proxy.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { SYSTEMS, closeServers, startServers, type Servers } from './three-systems.ts';
import { nowMs } from './watched-run.ts';

const LONG = process.env.ROLLCALL_FAULTS_LONG === '1';
const random = seededRandom('ROLLCALL_FAULTS_SEED');
/**
 * What the proxy does in each phase. Faults strike at random (seeded), as on a flaky network: one
 * every N requests exactly would make every sync of N requests or more fail forever.
 */
const PHASES: Record<string, FaultRules> = {
  clean: {},
  latency: { latencyMs: LONG ? 1000 : 250 },
  resets: { fault: () => (random.next() < 0.15 ? { kind: 'reset' } : { kind: 'forward' }) },
  '5xx': { fault: () => (random.next() < 0.2 ? { kind: 'status', status: random.next() < 0.5 ? 503 : 500 } : { kind: 'forward' }) },
};
/** The 429 phase: the first request is answered 429 with this Retry-After (seconds), every later one forwarded. */
const RETRY_AFTER_S = 6;
/** Requests already on their way when the 429 came back may still arrive this long after it. */
const IN_FLIGHT_MS = 1500;
const PER_SYSTEM_CONCURRENCY = 4;

interface Phase {
  name: string;
  /** Seconds until LDAP and PostgreSQL held the batch, and until SCIM did too. */
  othersSeconds: number;
  scimSeconds: number;
  requests: number;
  injected: number;
}

describe('a slow and flaky SCIM server behind a proxy: latency, resets, 5xx, 429 with Retry-After', () => {
  let servers: Servers;
  let proxy: HttpFaultProxy;
  let churn: Churn;
  const phases: Phase[] = [];
  let rateLimited: { at: number; sooner: number; requests: number; scimSeconds: number; othersSeconds: number };

  /** Changes a batch under `rules`; seconds until LDAP and PostgreSQL, then all three, hold it. */
  const batchUnder = async (rules: FaultRules) => {
    proxy.set(rules);
    const since = nowMs();
    const before = proxy.requests.length;
    churn.changeUsers();
    const othersSeconds = await churn.convergeSeconds(['directory', 'db'], since);
    const scimSeconds = await churn.convergeSeconds(SYSTEMS, since);
    const during = proxy.requests.slice(before);
    return { since, othersSeconds, scimSeconds, during };
  };

  beforeAll(
    async () => {
      console.log(`slow system: seed ${random.seed} (replay with ROLLCALL_FAULTS_SEED=${random.seed})`);
      servers = await startServers({ durableScim: false }); // never restarted here
      proxy = await HttpFaultProxy.start(servers.scim.baseUrl);
      churn = await startChurn(servers, { suite: 'slow', random, at: { scimBaseUrl: proxy.via(servers.scim.baseUrl) }, batchTimeoutMs: 180_000 });

      for (const [name, rules] of Object.entries(PHASES)) {
        const { othersSeconds, scimSeconds, during } = await batchUnder(rules);
        phases.push({ name, othersSeconds, scimSeconds, requests: during.length, injected: during.filter((r) => r.fault !== 'forward').length });
        const p = phases.at(-1)!;
        console.log(
          `slow system, ${p.name.padEnd(8)} LDAP+PostgreSQL ${p.othersSeconds.toFixed(1)} s, SCIM ${p.scimSeconds.toFixed(1)} s, ${p.requests} SCIM requests (${p.injected} faults injected)`,
        );
      }

      // Rate limited: the first request after this is answered 429, Retry-After 6 s.
      const { since, othersSeconds, scimSeconds, during } = await batchUnder({
        fault: (n) => (n === 1 ? { kind: 'status', status: 429, retryAfterSeconds: RETRY_AFTER_S } : { kind: 'forward' }),
      });
      const at = during.find((r) => r.fault === 429)?.atMs ?? Number.NaN;
      rateLimited = {
        at: (at - since) / 1000,
        sooner: during.filter((r) => r.atMs > at + IN_FLIGHT_MS && r.atMs < at + RETRY_AFTER_S * 1000 - 200).length,
        requests: during.length,
        scimSeconds,
        othersSeconds,
      };
      console.log(
        `slow system, 429      LDAP+PostgreSQL ${rateLimited.othersSeconds.toFixed(1)} s, SCIM ${rateLimited.scimSeconds.toFixed(1)} s, ${rateLimited.requests} SCIM requests; ${rateLimited.sooner} arrived within the ${RETRY_AFTER_S} s Retry-After (after ${IN_FLIGHT_MS} ms for those in flight)`,
      );
    },
    LONG ? 1_200_000 : 600_000,
  );

  afterAll(async () => {
    await churn?.stop();
    await proxy?.close();
    await closeServers(servers);
  });

  const clean = () => phases.find((p) => p.name === 'clean')!;

  it('LDAP and PostgreSQL converge each batch at about their normal speed while SCIM fails fast', () => {
    expect(phases.map((p) => p.name)).toEqual(Object.keys(PHASES));
    for (const p of phases.filter((p) => p.name === 'resets' || p.name === '5xx')) expect(p.othersSeconds, p.name).toBeLessThan(3 * clean().othersSeconds + 10);
  });

  it('while SCIM is slow (latency, a Retry-After wait), LDAP and PostgreSQL converge at about their normal speed, well before SCIM', () => {
    // A User's reconcile no longer waits for a slow system (AccountSyncs): its SCIM sync goes on
    // alone, so the User workers keep serving LDAP and PostgreSQL.
    for (const p of [...phases.filter((p) => p.name === 'latency'), { name: '429', ...rateLimited }]) {
      expect(p.othersSeconds, p.name).toBeLessThan(2 * clean().othersSeconds + 3);
      expect(p.othersSeconds, p.name).toBeLessThan(p.scimSeconds);
    }
  });

  it('SCIM converges every batch, with its faults injected and its retries bounded', () => {
    for (const p of phases.filter((p) => p.name !== 'clean')) {
      if (p.name !== 'latency') expect(p.injected, `${p.name}: faults injected`).toBeGreaterThan(0);
      expect(p.requests, `${p.name}: requests, against ${clean().requests} for a clean batch`).toBeLessThan(4 * clean().requests + 50);
    }
  });

  it('after a 429 with Retry-After, no new request reaches the server before that time', () => {
    expect(Number.isNaN(rateLimited.at)).toBe(false);
    expect(rateLimited.sooner).toBeLessThanOrEqual(PER_SYSTEM_CONCURRENCY);
    expect(rateLimited.scimSeconds).toBeGreaterThan(RETRY_AFTER_S);
  });
});
