// Crash consistency of standalone `rollcall run --manifests DIR`, the real CLI process, against real
// slapd, PostgreSQL and scim2-server: it is SIGKILLed at seeded random points while it converges
// 1,000 Users (10 kills; ROLLCALL_FAULTS_LONG=1: 2,000 Users, 30 kills), and between two runs the
// files change as a person would change them: joiners added, movers to another department, leavers
// set to terminated or removed from the files. After the last kill one `--once` must converge
// everything: no account twice, none lost, no entitlement left that is not declared, no leaver able
// to log in, and the state file's status saying what the systems hold. A second `--once` then has
// nothing to do (nothing is done twice). The seed is printed; ROLLCALL_FAULTS_SEED=N replays it.
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/api/index.ts';
import { ROLLCALL, rollcall, type RollcallOutcome } from '../helpers/rollcall-cli.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import {
  DEPARTMENTS,
  SYSTEMS,
  matches,
  closeServers,
  holdings,
  startServers,
  systemsManifest,
  writeUsers,
  type Holdings,
  type Person,
  type Servers,
  type SystemName,
} from './three-systems.ts';

const LONG = process.env.ROLLCALL_FAULTS_LONG === '1';
const USERS = LONG ? 2000 : 1000;
const KILLS = LONG ? 30 : 10;
/** Per round between two runs: this many joiners, movers and leavers (half terminated, half removed). */
const CHURN = LONG ? 20 : 10;
/**
 * A run is killed after 0 to this many changes applied: about half of all the work is done across the
 * killed runs, the rest by the run after the last kill (each User needs a change in each system).
 */
const MAX_CHANGES_BEFORE_KILL = Math.round((USERS * 3) / KILLS);
/** The console line of one change applied: "  NAME  SYSTEM  what was done". */
const CHANGE_LINE = /^ {2}\S+\s+(directory|db|wiki)\s+\S/;

const random = seededRandom('ROLLCALL_FAULTS_SEED');

interface Kill {
  /** Killed once the run had printed this many changes (0: at afterMs after its start-up line). */
  afterChanges: number;
  afterMs: number | undefined;
  /** Changes it printed before it died (a few may land between the signal and the death). */
  applied: number;
  /** Users whose accounts were all as declared when the process died, of those declared then. */
  converged: number;
  declared: number;
}

describe(`crash consistency: ${KILLS} SIGKILLs while ${USERS} Users converge into slapd, PostgreSQL and SCIM`, () => {
  let servers: Servers;
  let root = '';
  let dir = '';
  let statePath = '';
  const people = new Map<string, Person>();
  /** Every name ever declared; a name not here found in a system is a stray account. */
  const everDeclared = new Set<string>();
  const kills: Kill[] = [];
  let final: RollcallOutcome;
  let again: RollcallOutcome;
  let held: Record<SystemName, Holdings>;
  let finalSeconds = 0;
  let joined = 0;

  const join_ = (department = DEPARTMENTS[random.between(0, 2)]!) => {
    const name = `u${String(joined++).padStart(5, '0')}`;
    people.set(name, { department });
    everDeclared.add(name);
  };

  /** Users whose three accounts are exactly as declared (leavers: disabled without groups, or absent). */
  const convergedCount = (now: Record<SystemName, Holdings>) =>
    [...people].filter(([name, person]) => SYSTEMS.every((system) => matches(now[system].accounts.get(name), person, system))).length;

  beforeAll(
    async () => {
      console.log(`crash consistency: seed ${random.seed} (replay with ROLLCALL_FAULTS_SEED=${random.seed})`);
      servers = await startServers({ durableScim: false }); // never restarted here
      root = mkdtempSync(join(tmpdir(), 'rollcall-crash-'));
      dir = join(root, 'manifests');
      statePath = join(root, 'state.json');
      mkdirSync(dir);
      writeFileSync(join(dir, 'systems.yaml'), systemsManifest(servers));
      for (let i = 0; i < USERS; i++) join_();
      writeUsers(dir, people);
      const log = openSync(join(root, 'runs.log'), 'a'); // stderr; stdout is appended after each run

      for (let round = 0; round < KILLS; round++) {
        // The kill point is counted in changes applied (one console line each), not in seconds: the
        // same seed kills at the same point of the work however loaded the machine is. 0: before the
        // first change (one run in five), a random moment after start-up.
        const afterChanges = random.next() < 0.2 ? 0 : random.between(1, MAX_CHANGES_BEFORE_KILL);
        const afterMs = random.between(0, 1500);
        const child = spawn(process.execPath, [ROLLCALL, 'run', '--manifests', dir, '--state', statePath], { cwd: root, stdio: ['ignore', 'pipe', log] });
        const exited = new Promise((resolve) => child.once('exit', resolve));
        let applied = 0;
        let text = '';
        await new Promise<void>((resolve) => {
          child.stdout!.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            applied = text.split('\n').filter((line) => CHANGE_LINE.test(line)).length;
            if (afterChanges === 0 ? text.includes('Rollcall: converging') : applied >= afterChanges || text.includes('Watching')) resolve();
          });
          child.once('exit', () => resolve());
        });
        if (afterChanges === 0) await sleep(afterMs);
        child.kill('SIGKILL');
        await exited;
        appendFileSync(join(root, 'runs.log'), text);
        await sleep(100); // a request already on the wire may still land
        kills.push({
          afterChanges,
          afterMs: afterChanges === 0 ? afterMs : undefined,
          applied,
          converged: convergedCount(await holdings(servers)),
          declared: people.size,
        });

        // Between runs, the files change: joiners, movers, leavers (terminated in place or removed).
        for (let i = 0; i < CHURN; i++) join_();
        const active = [...people].filter(([, p]) => !p.terminated).map(([name]) => name);
        const [movers, leavers] = [random.pick(active, CHURN * 2).slice(0, CHURN), random.pick(active, CHURN * 2).slice(CHURN)];
        for (const name of movers) {
          const person = people.get(name)!;
          person.department = DEPARTMENTS[(DEPARTMENTS.indexOf(person.department) + random.between(1, 2)) % 3]!;
        }
        for (const [i, name] of leavers.entries()) {
          if (i % 2 === 0) people.get(name)!.terminated = true;
          else people.delete(name);
        }
        writeUsers(dir, people);
      }
      closeSync(log);

      const startedAt = performance.now();
      final = await rollcall(['run', '--manifests', dir, '--state', statePath, '--once'], root);
      finalSeconds = (performance.now() - startedAt) / 1000;
      held = await holdings(servers);
      again = await rollcall(['run', '--manifests', dir, '--state', statePath, '--once'], root);

      const table = kills
        .map(
          (k, i) =>
            `  kill ${String(i + 1).padStart(2)} ${k.afterChanges ? `after ${k.afterChanges} changes` : `${k.afterMs} ms after start-up`}: ${k.applied} printed, ${k.converged}/${k.declared} Users converged in all three systems`,
        )
        .join('\n');
      console.log(
        `crash consistency (seed ${random.seed}):\n${table}\n  final --once: ${finalSeconds.toFixed(1)} s, exit ${final.code}; declared ${people.size}, ever declared ${everDeclared.size}`,
      );
    },
    LONG ? 3_600_000 : 1_200_000,
  );

  afterAll(async () => {
    await closeServers(servers);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it(`the kills landed while accounts were being written (some runs died part-way)`, () => {
    expect(kills).toHaveLength(KILLS);
    expect(
      kills.some((k) => k.converged > 0 && k.converged < k.declared),
      JSON.stringify(kills),
    ).toBe(true);
  });

  it('the run after the last kill converges and exits 0', () => {
    expect(final.code, final.stdout.slice(-4000) + final.stderr.slice(-4000)).toBe(0);
  });

  it('no account exists twice in any system', () => {
    for (const system of SYSTEMS) expect(held[system].duplicates, system).toEqual([]);
  });

  it('no account is lost and none has an entitlement it is not declared to have', () => {
    for (const system of SYSTEMS) {
      const wrong = [...people]
        .filter(([name, person]) => !matches(held[system].accounts.get(name), person, system))
        .map(([name, person]) => ({ name, person, holds: held[system].accounts.get(name) }));
      expect(wrong, system).toEqual([]);
    }
  });

  it('every User removed from the files is cut off, and no account exists that was never declared', () => {
    for (const system of SYSTEMS) {
      for (const [name, account] of held[system].accounts) {
        expect(everDeclared.has(name), `${name} in ${system} was never declared`).toBe(true);
        if (!people.has(name)) expect(account, `${name} in ${system}, removed from the files`).toEqual({ enabled: false, groups: [] });
      }
    }
  });

  it('the state file holds exactly the declared Users, each Ready, its status matching what the systems hold', () => {
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { objects: { object: { kind: string } }[] };
    const users = state.objects.map((o) => o.object).filter((o): o is User => o.kind === 'User');
    expect(users.map((u) => u.metadata.name).sort()).toEqual([...people.keys()].sort());
    for (const user of users) {
      const name = user.metadata.name;
      expect(user.status?.conditions?.find((c) => c.type === 'Ready')?.status, `${name} Ready`).toBe('True');
      for (const system of SYSTEMS) {
        const status = user.status?.accounts?.find((a) => a.system === system);
        const account = held[system].accounts.get(name);
        const said =
          status?.state === 'present'
            ? { enabled: true, groups: [...(status.entitlements ?? [])].sort() }
            : status?.state === 'disabled'
              ? { enabled: false, groups: [] }
              : undefined;
        expect(said, `${name} in ${system}: status ${JSON.stringify(status)}`).toEqual(account);
      }
    }
  });

  it('a second run has nothing to do: nothing is applied twice', () => {
    expect(again.code, again.stdout.slice(-4000)).toBe(0);
    expect(again.stdout).toContain('nothing to change');
  });
});
