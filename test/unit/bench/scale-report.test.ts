// The scale report's table (bench/scale/report.ts): every target of issue 19's table is a row with
// its target and a verdict in every run, also when its phase did not run, and convergence is judged
// against the slower of the two floors measured in the same run.
import { describe, expect, it } from 'vitest';
import { rows, slowerFloor, type Row, type ScaleResults } from '../../../bench/scale/report.ts';
import { summary } from '../../../bench/scale/pool.ts';

const SECOND = 1000;
const MIB = 2 ** 20;

/** A 1,000-User run over ldap and postgres that meets every target; `change` makes one miss. */
function run(change: (r: ScaleResults) => void = () => undefined): ScaleResults {
  const fast = summary([100, 200, 300]);
  const r: ScaleResults = {
    users: 1000,
    systems: ['ldap', 'postgres'],
    command: 'npm run bench -- --scale --users 1000 --systems ldap,postgres',
    startedAt: '2026-12-07T18:00:00Z',
    failures: [],
    notes: [],
    raw: { totalMs: 2 * SECOND, perSystemMs: { ldap: 2 * SECOND, postgres: 1.5 * SECOND }, writes: 6000, mismatches: {} },
    floor: { users: 1000, createConcurrency: 32, statusConcurrency: 8, createMs: 4 * SECOND, statusMs: 5 * SECOND, statusWrite: fast, cleanupMs: SECOND },
    convergence: {
      applyMs: 4 * SECOND,
      convergeMs: 8 * SECOND,
      ready: 1000,
      perSystemMs: { ldap: 8 * SECOND, postgres: 8 * SECOND },
      perSystemAccounts: { ldap: 1000, postgres: 1000 },
      userReconciles: 1000,
      apiRequests: { 'PUT users/status': 1000, 'POST events': 100, 'PATCH events': 50 },
      cpuSeconds: 10,
      connectorOps: 6000,
    },
    leaversSequential: { ms: [100, 200, 300], stats: fast, perSystem: {}, timedOut: 0 },
    leaversBurst: { ms: [100, 200, 300], stats: fast, perSystem: {}, timedOut: 0 },
    expiry: { ms: [100, 200, 300], stats: fast, marginMs: 10 * SECOND, notGranted: 0, timedOut: 0 },
    idle: {
      windowMs: 65 * SECOND,
      systemWrites: { ldap: 0, postgres: 0 },
      apiWrites: 0,
      written: {},
      connectorOps: 0,
      userReconciles: 2000,
      systemReconciles: 4,
      apiRequests: {},
      cpuSeconds: 1,
      settled: true,
      settledMs: 3 * SECOND,
    },
    drift: {
      changes: 3,
      ms: [10 * SECOND, 20 * SECOND, 25 * SECOND],
      stats: summary([10, 20, 25].map((s) => s * SECOND)),
      allCorrectedMs: 25 * SECOND,
      notCorrected: 0,
      resyncIntervalMs: 30 * SECOND,
    },
    process: { peakRssBytes: 200 * MIB, rssBytes: 180 * MIB, cpuSeconds: 20, heapUsedBytes: 0, heapTotalBytes: 0, externalBytes: 0, warnings: {} },
  };
  change(r);
  return r;
}

/** The rows of the table, found by a part of their figure. */
const TARGETS = {
  convergence: 'Rollcall / the slower of the two floors',
  burst: 'burst: p50 / p95 / p99',
  expiry: 'bindings ending at one instant',
  memory: 'peak RSS of rollcall',
  events: 'Event writes per User reconcile',
  outOfBand: 'per change p50 / max',
  idleWrites: 'writes over',
  idleQueue: 'work queues empty',
};

/** One change per target that makes it miss. */
const MISSES: Record<keyof typeof TARGETS, (r: ScaleResults) => void> = {
  convergence: (r) => {
    r.convergence!.convergeMs = 11 * SECOND;
  },
  burst: (r) => {
    r.leaversBurst = { ms: [1500], stats: summary([1500]), perSystem: {}, timedOut: 0 };
  },
  expiry: (r) => {
    r.expiry = { ...r.expiry!, ms: [1500], stats: summary([1500]) };
  },
  memory: (r) => {
    r.process!.peakRssBytes = 257 * MIB;
  },
  events: (r) => {
    r.convergence!.apiRequests['PATCH events'] = 101;
  },
  outOfBand: (r) => {
    r.drift = { ...r.drift!, stats: summary([31 * SECOND]) };
  },
  idleWrites: (r) => {
    r.idle!.apiWrites = 1;
  },
  idleQueue: (r) => {
    r.idle!.settled = false;
  },
};

function targetRow(table: Row[], figure: string): Row {
  const found = table.filter((row) => row.figure.includes(figure));
  expect(found, figure).toHaveLength(1);
  return found[0]!;
}

describe('the scale report', () => {
  it('has every target of the table with its target, all met in a run that meets them', () => {
    const table = rows(run());
    const found = Object.fromEntries(Object.entries(TARGETS).map(([key, figure]) => [key, targetRow(table, figure)]));
    expect(found.convergence!.target).toBe('≤ 2×');
    expect(found.burst!.target).toBe('p99 ≤ 1 s');
    expect(found.expiry!.target).toBe('p99 ≤ 1 s');
    expect(found.memory!.target).toContain('256 MiB');
    expect(found.memory!.target).toContain('10,000');
    expect(found.events!.target).toContain('≤ 0.2');
    expect(found.outOfBand!.target).toBe('≤ resyncInterval');
    expect(found.idleWrites!.target).toBe('0');
    expect(Object.values(found).map((row) => row.verdict)).toEqual(Object.values(TARGETS).map(() => 'ok'));
  });

  it.each(Object.entries(MISSES))('says over target when %s misses', (key, miss) => {
    const table = rows(run(miss));
    expect(targetRow(table, TARGETS[key as keyof typeof TARGETS]).verdict).toBe('over target');
    const others = Object.entries(TARGETS).filter(([other]) => other !== key);
    expect(others.map(([, figure]) => targetRow(table, figure).verdict)).toEqual(others.map(() => 'ok'));
  });

  it('keeps every target row, as not run, when no phase ran', () => {
    const table = rows({ users: 1000, systems: ['ldap', 'postgres'], command: '', startedAt: '2026-12-07T18:00:00Z', failures: [], notes: [] });
    for (const figure of Object.values(TARGETS)) expect(targetRow(table, figure).verdict).toBe('not run');
  });

  it('counts Events created and count writes, both, per User reconcile', () => {
    expect(targetRow(rows(run()), TARGETS.events).value).toBe('0.15 (0.10 + 0.05)');
  });

  it('judges convergence against the slower floor, and still shows Rollcall / raw', () => {
    // API server floor 5 s, systems 2 s: 8 s is 1.6× the slower, 4× the systems'.
    const table = rows(run());
    expect(targetRow(table, TARGETS.convergence).value).toBe('1.60×');
    expect(table.find((row) => row.figure === 'Rollcall / raw')!.value).toBe('4.00×');
    expect(targetRow(table, 'the slower floor:').value).toBe('API server, 5.00 s');
  });

  it('takes the systems as the floor when they are slower than the API server', () => {
    expect(slowerFloor(run((r) => void (r.floor!.statusMs = SECOND)))).toEqual({ name: 'systems', ms: 2 * SECOND });
    expect(slowerFloor(run())).toEqual({ name: 'API server', ms: 5 * SECOND });
  });

  it('has no slower floor, and no convergence verdict, until both floors are measured', () => {
    const r = run((r) => delete r.floor);
    expect(slowerFloor(r)).toBeUndefined();
    expect(targetRow(rows(r), TARGETS.convergence).verdict).toBe('not run');
    expect(targetRow(rows(r), 'status writes, PUT users/status').verdict).toBe('not run');
  });
});
