// Dead systems: while a watching standalone `rollcall run` serves slapd, PostgreSQL and scim2-server,
// each server in turn is stopped for an outage (8 s; ROLLCALL_FAULTS_LONG=1: 60 s) and Users join,
// move and leave meanwhile. The two systems still up must converge those Users in about the time a
// batch takes with nothing down; the stopped one must catch up fully once it is back (its accounts as
// declared, its ConnectedSystem and every User Ready again); and the connection attempts Rollcall makes
// to the dead server (counted in its process, count-connections.ts) must back off and stay bounded.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { BATCH, startChurn, type Churn } from './churn.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { SYSTEMS, closeServers, startServers, type Servers, type SystemName } from './three-systems.ts';
import { nowMs } from './watched-run.ts';

const LONG = process.env.ROLLCALL_FAULTS_LONG === '1';
const OUTAGE_MS = LONG ? 60_000 : 8_000;

interface Outage {
  system: SystemName;
  /** Seconds until the two systems still up held the batch added during the outage. */
  othersSeconds: number;
  /** Seconds from the restart until the stopped system held every account as declared and all was Ready. */
  recoverySeconds: number;
  /** Seconds from the restart to Rollcall's first connection attempt to it: the circuit's remaining wait. */
  reconnectSeconds: number;
  /** How long the server was really down: the outage, or longer if the others took longer to converge. */
  downSeconds: number;
  /** Connection attempts to the stopped server during the outage. */
  attempts: number;
  /** Bursts of attempts (one per try of the circuit) in each half of the outage. */
  firstHalf: number;
  secondHalf: number;
  retries: number;
}

describe(`dead systems: each of slapd, PostgreSQL and SCIM stopped for ${OUTAGE_MS / 1000} s while Users come and go`, () => {
  let servers: Servers;
  let churn: Churn;
  const random = seededRandom('ROLLCALL_FAULTS_SEED');
  let baselineSeconds = 0;
  const outages: Outage[] = [];

  const portOf = (system: SystemName) =>
    system === 'directory' ? Number(new URL(servers.slapd.url).port) : system === 'db' ? servers.postgres.port : Number(new URL(servers.scim.baseUrl).port);
  const serverOf = (system: SystemName) => (system === 'directory' ? servers.slapd : system === 'db' ? servers.postgres : servers.scim);

  beforeAll(
    async () => {
      console.log(`dead systems: seed ${random.seed} (replay with ROLLCALL_FAULTS_SEED=${random.seed})`);
      servers = await startServers();
      churn = await startChurn(servers, { suite: 'dead', random, batchTimeoutMs: 120_000 });
      const { run, changeUsers, convergeSeconds } = churn;

      // Nothing down: how long one batch takes.
      let since = nowMs();
      changeUsers();
      baselineSeconds = await convergeSeconds(SYSTEMS, since);

      for (const system of SYSTEMS) {
        const others = SYSTEMS.filter((s) => s !== system);
        const retriesBefore = await run.metric('workqueue_retries_total');
        await serverOf(system).stop();
        const stoppedAt = nowMs();
        since = nowMs();
        changeUsers();
        const othersSeconds = await convergeSeconds(others, since);
        await sleep(Math.max(0, stoppedAt + OUTAGE_MS - nowMs()));
        const backAt = nowMs();
        const during = run.attempts(portOf(system), stoppedAt, backAt);
        const retries = (await run.metric('workqueue_retries_total')) - retriesBefore;
        await serverOf(system).restart();
        await convergeSeconds(SYSTEMS, backAt, OUTAGE_MS + 120_000);
        await eventually(
          () => {
            const { systems, usersNotReady } = run.readiness();
            expect(systems[system]).toBe('True');
            expect(usersNotReady).toEqual([]);
          },
          { timeoutMs: OUTAGE_MS + 120_000, logs: () => run.logs() },
        );
        const middle = stoppedAt + (backAt - stoppedAt) / 2;
        outages.push({
          system,
          othersSeconds,
          recoverySeconds: (nowMs() - backAt) / 1000,
          downSeconds: (backAt - stoppedAt) / 1000,
          reconnectSeconds: ((run.attempts(portOf(system), backAt)[0] ?? Number.NaN) - backAt) / 1000,
          attempts: during.length,
          firstHalf: burstsOf(during.filter((at) => at < middle)),
          secondHalf: burstsOf(during.filter((at) => at >= middle)),
          retries,
        });
      }
      console.log(
        `dead systems (outage ${OUTAGE_MS / 1000} s, batch ${BATCH} joiners + ${BATCH / 5} movers + ${BATCH / 5} leavers): baseline batch ${baselineSeconds.toFixed(1)} s\n` +
          outages
            .map(
              (o) =>
                `  ${o.system.padEnd(9)} down ${o.downSeconds.toFixed(1)} s: others converged the batch in ${o.othersSeconds.toFixed(1)} s; recovered ${o.recoverySeconds.toFixed(1)} s after restart (first connection after ${o.reconnectSeconds.toFixed(1)} s); ${o.attempts} connection attempts in ${o.firstHalf} burst(s) in the first half, ${o.secondHalf} in the second; ${o.retries} work-queue retries`,
            )
            .join('\n'),
      );
    },
    LONG ? 1_200_000 : 600_000,
  );

  afterAll(async () => {
    await churn?.stop();
    await closeServers(servers);
  });

  it('while one system is down, the others converge the Users changed meanwhile at about their normal speed', () => {
    expect(outages.map((o) => o.system)).toEqual([...SYSTEMS]);
    for (const o of outages) expect(o.othersSeconds, `${o.system} down`).toBeLessThan(3 * baselineSeconds + 10);
  });

  it('once back, the stopped system catches up: every account as declared, the system and every User Ready', () => {
    // Within the circuit's longest wait for an outage this long (it doubles from 1 s), plus a batch's work.
    for (const o of outages) expect(o.recoverySeconds, `${o.system} back`).toBeLessThan(OUTAGE_MS / 1000 + 3 * baselineSeconds + 30);
  });

  it('once back, the stopped system is tried again within about as long as it was down', () => {
    // The circuit's wait doubles with each failed try, so what is left of it after the restart is at
    // most about the outage; the calls that failed fast meanwhile must not have stretched it.
    for (const o of outages)
      expect(o.reconnectSeconds, `${o.system}: first connection after the restart, down ${o.downSeconds.toFixed(1)} s`).toBeLessThan(o.downSeconds + 5);
  });

  it('the attempts to reach a dead system back off and stay bounded', () => {
    for (const o of outages) {
      expect(o.attempts, `${o.system}: tried at all`).toBeGreaterThan(0);
      // The circuit waits 1, 2, 4, ... s between tries: a few bursts, not a stream.
      expect(o.attempts, `${o.system}: attempts in ${OUTAGE_MS / 1000} s`).toBeLessThan(ATTEMPT_BOUND);
      // Counted in tries, not connections: one try may open one connection or a pool's several.
      expect(o.secondHalf, `${o.system}: fewer tries in the second half of the outage than in the first`).toBeLessThanOrEqual(o.firstHalf);
    }
  });
});

/** Attempts closer than this to the one before belong to the same try. */
const BURST_GAP_MS = 300;

/** How many tries the attempts (epoch ms, ascending) make: runs of attempts with no gap over BURST_GAP_MS. */
function burstsOf(attempts: readonly number[]): number {
  return attempts.filter((at, i) => i === 0 || at - attempts[i - 1]! > BURST_GAP_MS).length;
}

/** Bursts of at most a few connections, one per doubling of the circuit's wait. */
const ATTEMPT_BOUND = 10 * (2 + Math.ceil(Math.log2(OUTAGE_MS / 1000)));
