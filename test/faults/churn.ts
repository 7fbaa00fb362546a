// The set-up the dead- and slow-system suites share: a watching standalone `rollcall run` over the
// three systems (three-systems.ts), converged on the first Users, then batches of joiners, movers
// and leavers written into the manifests as a person would, each timed until the systems hold it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import type { SeededRandom } from '../helpers/seeded-random.ts';
import {
  DEPARTMENTS,
  SYSTEMS,
  holdingsOf,
  systemsManifest,
  unconverged,
  writeUsers,
  type Person,
  type Servers,
  type SystemAddresses,
  type SystemName,
} from './three-systems.ts';
import { nowMs, startWatchedRun, type WatchedRun } from './watched-run.ts';

/** Users declared before the first batch. */
const INITIAL = 60;
/** Each batch: this many joiners, and a fifth as many movers and leavers. */
export const BATCH = 30;
/** The first convergence creates every account from nothing: it takes longer than a batch. */
const INITIAL_TIMEOUT_MS = 240_000;

export interface ChurnOptions {
  /** Names the temp dir (rollcall-SUITE-...), to tell a left-over one apart. */
  suite: string;
  /** Picks the movers and leavers: the suite's seed replays them. */
  random: SeededRandom;
  /** Where Rollcall reaches the systems, when not at the servers themselves (a proxy in between). */
  at?: SystemAddresses;
  /** How long a batch may take to converge, unless a call says otherwise. */
  batchTimeoutMs: number;
}

export interface Churn {
  run: WatchedRun;
  /** A batch as a person makes it: joiners, movers to another department, leavers set to terminated. */
  changeUsers(): void;
  /** Seconds from `since` until `systems` hold every User as declared. */
  convergeSeconds(systems: readonly SystemName[], since: number, timeoutMs?: number): Promise<number>;
  /** Stops the run and removes its files; the servers are the caller's to close. */
  stop(): Promise<void>;
}

/** Starts the run over `servers` with the first Users, and returns once all three systems hold them. */
export async function startChurn(servers: Servers, { suite, random, at, batchTimeoutMs }: ChurnOptions): Promise<Churn> {
  const root = mkdtempSync(join(tmpdir(), `rollcall-${suite}-`));
  const dir = join(root, 'manifests');
  mkdirSync(dir);
  writeFileSync(join(dir, 'systems.yaml'), systemsManifest(servers, at));
  const people = new Map<string, Person>();
  let joined = 0;
  const addJoiners = (count: number) => {
    for (let i = 0; i < count; i++) people.set(`p${String(joined++).padStart(4, '0')}`, { department: DEPARTMENTS[i % 3]! });
  };
  const changeUsers = () => {
    const active = [...people].filter(([, p]) => !p.terminated).map(([name]) => name);
    for (const name of random.pick(active, BATCH / 5)) {
      const person = people.get(name)!;
      person.department = DEPARTMENTS[(DEPARTMENTS.indexOf(person.department) + 1) % 3]!;
    }
    for (const name of random.pick(active, BATCH / 5)) people.get(name)!.terminated = true;
    addJoiners(BATCH);
    writeUsers(dir, people, 4);
  };

  addJoiners(INITIAL);
  writeUsers(dir, people, 4);
  let run: WatchedRun | undefined;
  const stop = async () => {
    await run?.stop();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    run = await startWatchedRun(root, dir);
    const started = run;
    const convergeSeconds = async (systems: readonly SystemName[], since: number, timeoutMs = batchTimeoutMs) => {
      await eventually(async () => expect(unconverged(await holdingsOf(servers, systems), people, systems)).toEqual([]), {
        timeoutMs,
        intervalMs: 200,
        logs: () => started.logs(),
      });
      return (nowMs() - since) / 1000;
    };
    await convergeSeconds(SYSTEMS, nowMs(), INITIAL_TIMEOUT_MS);
    return { run: started, changeUsers, convergeSeconds, stop };
  } catch (error) {
    // The suite's afterAll has no Churn to stop: leave no process or files behind.
    await stop();
    throw error;
  }
}
