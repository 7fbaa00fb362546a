// The scale run's results: every figure as JSON, and one Markdown table whose rows stay the same
// from commit to commit, so two files can be compared line by line. Targets are printed, not enforced;
// only a wrong result (a system that does not hold what is declared) is a failed row.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { RawResult } from './raw.ts';
import type { ConvergenceResult } from './phases/convergence.ts';
import type { DriftResult } from './phases/drift.ts';
import type { ExpiryResult } from './phases/expiry.ts';
import type { FloorResult } from './phases/floor.ts';
import type { IdleResult } from './phases/idle.ts';
import type { LatencyResult } from './phases/leavers.ts';
import type { StandaloneResult } from './phases/standalone.ts';
import type { SystemKind } from './world.ts';

export interface ScaleResults {
  users: number;
  systems: SystemKind[];
  command: string;
  startedAt: string;
  loadAtStart?: number[];
  totalSeconds?: number;
  raw?: RawResult;
  /** The API server's own floor: a raw client's N status writes on the same control plane. */
  floor?: FloorResult;
  convergence?: ConvergenceResult;
  leaversSequential?: LatencyResult;
  leaversBurst?: LatencyResult;
  expiry?: ExpiryResult;
  idle?: IdleResult & { settledMs: number; settled: boolean };
  drift?: DriftResult & { resyncIntervalMs: number };
  /** The rollcall process at the end of the operator phases. */
  process?: {
    peakRssBytes: number;
    rssBytes: number;
    cpuSeconds: number;
    heapUsedBytes: number;
    heapTotalBytes: number;
    externalBytes: number;
    warnings: Record<string, number>;
  };
  verification?: Partial<Record<SystemKind, { count: number; examples: string[] }>>;
  standalone?: StandaloneResult;
  /** Phases that could not run or finish, with why. */
  failures: { phase: string; reason: string }[];
  /** What the run noticed that the figures do not show. */
  notes: string[];
}

export interface Row {
  section: string;
  figure: string;
  value: string;
  target: string;
  verdict: '' | 'ok' | 'over target' | 'FAILED' | 'not run';
}

const MIB = 2 ** 20;
const s = (ms: number | null | undefined) =>
  ms === null || ms === undefined || Number.isNaN(ms)
    ? '-'
    : ms >= 10_000
      ? `${(ms / 1000).toFixed(1)} s`
      : ms >= 1000
        ? `${(ms / 1000).toFixed(2)} s`
        : `${ms.toFixed(0)} ms`;
const x = (ratio: number | undefined) => (ratio === undefined || !Number.isFinite(ratio) ? '-' : `${ratio.toFixed(2)}×`);
const per = (n: number, d: number) => (d > 0 ? (n / d).toFixed(2) : '-');
const verdict = (ok: boolean | undefined): Row['verdict'] => (ok === undefined ? 'not run' : ok ? 'ok' : 'over target');

/** The requests Rollcall makes to the API server (the benchmark only creates and patches Users and bindings, and watches Users). */
export const ROLLCALL_REQUESTS = [
  'GET secrets',
  'PUT users/status',
  'PATCH users',
  'GET users',
  'POST events',
  'PATCH events',
  'PUT connectedsystems/status',
  'PATCH connectedsystems',
  'GET connectedsystems',
];
const rollcallRequests = (requests: Record<string, number>) => ROLLCALL_REQUESTS.reduce((sum, key) => sum + (requests[key] ?? 0), 0);

/** The issue's target for convergence: at most this many times the slower of the two floors. */
export const CONVERGENCE_TARGET = 2;

/**
 * Convergence cannot beat the slower of two floors measured in the same run: the systems taking the
 * same writes from a raw script, and the API server taking N status writes from a raw client.
 * Undefined until both are measured.
 */
export function slowerFloor(r: Pick<ScaleResults, 'raw' | 'floor'>): { name: 'API server' | 'systems'; ms: number } | undefined {
  if (!r.raw || !r.floor) return undefined;
  return r.floor.statusMs > r.raw.totalMs ? { name: 'API server', ms: r.floor.statusMs } : { name: 'systems', ms: r.raw.totalMs };
}

export function rows(r: ScaleResults): Row[] {
  const out: Row[] = [];
  const add = (section: string, figure: string, value: string, target = '', v: Row['verdict'] = '') => out.push({ section, figure, value, target, verdict: v });
  const c = r.convergence;
  const raw = r.raw;
  const f = r.floor;
  const ratio = c?.convergeMs && raw ? c.convergeMs / raw.totalMs : undefined;
  const slower = slowerFloor(r);
  const floorRatio = c?.convergeMs && slower ? c.convergeMs / slower.ms : undefined;

  add('1 convergence', `apply ${r.users} Users through the API server (32 in flight)`, s(c?.applyMs));
  add(
    '1 convergence',
    'first User applied → every User Ready, SYSTEMS n/n',
    c ? (c.convergeMs === null ? `timed out (${c.ready}/${r.users} Ready)` : s(c.convergeMs)) : '-',
    '',
    c ? (c.convergeMs === null ? 'FAILED' : '') : 'not run',
  );
  for (const kind of r.systems) {
    const done = c?.perSystemMs[kind];
    add(
      '1 convergence',
      `${kind}: every account with its groups (polled)`,
      c && done === null ? `timed out (${c.perSystemAccounts[kind] ?? 0}/${r.users})` : s(done),
    );
  }
  add(
    '1 convergence',
    'Rollcall / the slower of the two floors (API server, systems)',
    x(floorRatio),
    `≤ ${CONVERGENCE_TARGET}×`,
    verdict(floorRatio === undefined ? undefined : floorRatio <= CONVERGENCE_TARGET),
  );
  add('1 convergence', 'Rollcall / raw', x(ratio));
  add('1 convergence', 'Rollcall / API server floor', x(c?.convergeMs && f ? c.convergeMs / f.statusMs : undefined));
  if (c) add('1 convergence', 'CPU seconds of rollcall / User reconciles', `${c.cpuSeconds.toFixed(1)} s / ${c.userReconciles}`);
  for (const kind of r.systems) {
    const mine = c?.perSystemMs[kind];
    const theirs = raw?.perSystemMs[kind];
    add('1 convergence', `${kind}: Rollcall / raw`, x(mine && theirs ? mine / theirs : undefined));
  }

  add('2 raw baseline', `create + 2 grants per User per system, 4 at a time per system, systems side by side`, s(raw?.totalMs));
  for (const kind of r.systems) add('2 raw baseline', `${kind}`, s(raw?.perSystemMs[kind]));

  add(
    '2 API server floor',
    `${f?.users ?? r.users} status writes, PUT users/status (${f?.statusConcurrency ?? '-'} in flight: Rollcall's User workers)`,
    s(f?.statusMs),
    '',
    f ? '' : 'not run',
  );
  if (f) {
    add('2 API server floor', 'status write p50 / p99', `${s(f.statusWrite.p50)} / ${s(f.statusWrite.p99)}`);
    add('2 API server floor', `create ${f.users} Users (${f.createConcurrency} in flight, Rollcall's kubeconfig setup)`, s(f.createMs));
  }
  add('2 API server floor', 'the slower floor: API server (status writes) or systems (raw baseline)', slower ? `${slower.name}, ${s(slower.ms)}` : '-');

  for (const [name, l] of [
    ['one at a time', r.leaversSequential],
    ['burst', r.leaversBurst],
  ] as const) {
    const count = l ? l.ms.length + l.timedOut : 0;
    add(
      '3 leavers',
      `${count} ${name}: p50 / p95 / p99`,
      l ? `${s(l.stats.p50)} / ${s(l.stats.p95)} / ${s(l.stats.p99)}` : '-',
      'p99 ≤ 1 s',
      verdict(l && l.timedOut === 0 ? l.stats.p99 <= 1000 : l ? false : undefined),
    );
    if (l) add('3 leavers', `${name}: p50 per system`, r.systems.map((k) => `${k} ${s(l.perSystem[k]?.p50)}`).join(', '));
    if (l?.timedOut) add('3 leavers', `${name}: not disabled everywhere in time`, String(l.timedOut), '0', 'FAILED');
  }

  const e = r.expiry;
  add(
    '4 expiry',
    `${e ? e.ms.length + e.timedOut : 0} bindings ending at one instant: p50 / p99 / max after validUntil`,
    e ? `${s(e.stats.p50)} / ${s(e.stats.p99)} / ${s(e.stats.max)}` : '-',
    'p99 ≤ 1 s',
    verdict(e ? e.timedOut === 0 && e.stats.p99 <= 1000 : undefined),
  );
  if (e)
    add(
      '4 expiry',
      'grants in place before validUntil (margin)',
      `${e.ms.length + e.timedOut - e.notGranted}/${e.ms.length + e.timedOut} (${s(e.marginMs)} ahead)`,
      'all',
      e.notGranted === 0 ? 'ok' : 'FAILED',
    );

  const i = r.idle;
  const idleWrites = i ? Object.values(i.systemWrites).reduce((a, b) => a + b, 0) + i.apiWrites : undefined;
  add(
    '5 idle resync',
    `writes over ${i ? s(i.windowMs) : '2 intervals'} (systems + API server)`,
    idleWrites === undefined ? '-' : String(idleWrites),
    '0',
    verdict(idleWrites === undefined ? undefined : idleWrites === 0),
  );
  // settle() wants three quiet samples a second apart: about 3 s is idle at once.
  add(
    '5 idle resync',
    'work queues empty, no reconcile running, before the window',
    i ? (i.settled ? `after ${s(i.settledMs)}` : `still busy after ${s(i.settledMs)}`) : '-',
    'idle',
    verdict(i?.settled),
  );
  if (i) {
    add('5 idle resync', 'writes per system', r.systems.map((k) => `${k} ${i.systemWrites[k]}`).join(', '));
    add('5 idle resync', 'API server writes (resourceVersion of Users, ConnectedSystems)', String(i.apiWrites));
    add('5 idle resync', 'connector operations (rollcall_connector_operations_total)', String(i.connectorOps));
    add('5 idle resync', 'CPU seconds of rollcall', i.cpuSeconds.toFixed(1));
    add(
      '5 idle resync',
      'User reconciles / API requests by Rollcall',
      `${i.userReconciles} / ${rollcallRequests(i.apiRequests)} (${i.apiRequests['GET secrets'] ?? 0} Secret GETs)`,
    );
  }

  const d = r.drift;
  add(
    '6 out-of-band',
    `${d?.changes ?? 0} changes: all corrected after`,
    d ? (d.allCorrectedMs === null ? `${d.notCorrected} not corrected` : s(d.allCorrectedMs)) : '-',
    '',
    d ? (d.notCorrected ? 'FAILED' : '') : 'not run',
  );
  add(
    '6 out-of-band',
    `per change p50 / max (resyncInterval ${d ? s(d.resyncIntervalMs) : '-'})`,
    d ? `${s(d.stats.p50)} / ${s(d.stats.max)}` : '-',
    '≤ resyncInterval',
    verdict(d ? d.notCorrected === 0 && d.stats.max <= d.resyncIntervalMs : undefined),
  );

  const p = r.process;
  // The issue sets it at 10,000 Users; held at any N, since fewer Users should take no more.
  add(
    '7 memory',
    'peak RSS of rollcall (VmHWM)',
    p ? `${(p.peakRssBytes / MIB).toFixed(0)} MiB` : '-',
    '≤ 256 MiB (at 10,000)',
    verdict(p ? p.peakRssBytes <= 256 * MIB : undefined),
  );
  if (p)
    add(
      '7 memory',
      'at the end: RSS / V8 heap used / heap total',
      `${(p.rssBytes / MIB).toFixed(0)} / ${(p.heapUsedBytes / MIB).toFixed(0)} / ${(p.heapTotalBytes / MIB).toFixed(0)} MiB`,
    );

  const reconciles = c?.userReconciles ?? 0;
  const requests = c?.apiRequests ?? {};
  if (c) {
    add('8 API requests', 'User reconciles during convergence', String(reconciles));
    add('8 API requests', 'Secret GETs per User reconcile', per(requests['GET secrets'] ?? 0, reconciles), 'Secrets from an informer: ~0');
    add('8 API requests', 'status writes per User reconcile', per(requests['PUT users/status'] ?? 0, reconciles));
  }
  // Correlated Events (store/event-correlator.ts): a repeat is a PATCH of the count, not a new
  // Event; both are a write to the API server, so both count against the target.
  const created = requests['POST events'] ?? 0;
  const counted = requests['PATCH events'] ?? 0;
  add(
    '8 API requests',
    'Event writes per User reconcile (created + count writes)',
    reconciles > 0 ? `${per(created + counted, reconciles)} (${per(created, reconciles)} + ${per(counted, reconciles)})` : '-',
    '≤ 0.2, aggregated',
    verdict(reconciles > 0 ? (created + counted) / reconciles <= 0.2 : undefined),
  );
  if (c) add('8 API requests', 'all requests by Rollcall per User reconcile', per(rollcallRequests(requests), reconciles));

  const o = r.standalone;
  const onceRatio = o?.totalMs && raw ? o.totalMs / raw.totalMs : undefined;
  add(
    '9 standalone',
    '`rollcall run --manifests DIR --once`, same world, fresh scopes',
    o ? (o.totalMs === null ? `failed (exit ${o.exitCode})` : s(o.totalMs)) : '-',
    '',
    o ? (o.totalMs === null ? 'FAILED' : '') : 'not run',
  );
  add('9 standalone', 'standalone / raw', x(onceRatio));
  if (o) add('9 standalone', 'CPU seconds / peak RSS', `${o.cpuSeconds.toFixed(1)} s / ${(o.peakRssBytes / MIB).toFixed(0)} MiB`);

  for (const [name, found] of [
    ['operator', r.verification],
    ['standalone', o?.mismatches],
    ['raw baseline', raw?.mismatches],
  ] as const) {
    for (const kind of r.systems) {
      const m = found?.[kind];
      add(
        'check',
        `${name}: ${kind} holds exactly what is declared`,
        m ? (m.count === 0 ? '0 mismatches' : `${m.count} mismatches, e.g. ${m.examples.slice(0, 3).join('; ')}`) : '-',
        '0',
        m ? (m.count === 0 ? 'ok' : 'FAILED') : 'not run',
      );
    }
  }
  for (const failure of r.failures) add('failures', failure.phase, failure.reason.replaceAll('\n', ' ').slice(0, 300), '', 'FAILED');
  return out;
}

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'bin'], { encoding: 'utf8' }).trim();
    return dirty ? `${commit} (src modified)` : commit;
  } catch {
    return 'unknown';
  }
}

export function machine() {
  return {
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    ramGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
  };
}

export function writeReport(r: ScaleResults): { json: string; markdown: string } {
  const date = r.startedAt.slice(0, 10);
  const suffix = r.systems.length === 3 ? '' : `-${r.systems.join('-')}`;
  const dir = join(import.meta.dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `scale-${date}-N${r.users}${suffix}`);
  const m = machine();
  const commit = gitCommit();
  const table = rows(r);
  writeFileSync(`${base}.json`, JSON.stringify({ machine: m, commit, ...r, rows: table }, null, 2) + '\n');
  const escape = (text: string) => text.replaceAll('|', '\\|');
  const markdown = `# Scale benchmark, ${r.users.toLocaleString('en')} Users, ${date}

- date: ${r.startedAt}, commit ${commit}
- machine: ${m.cores} cores (nproc), ${m.cpu}, ${m.ramGiB} GiB RAM; Node ${m.node} (${m.platform}); load average at the end ${m.loadAverage.join(', ')} (${r.loadAtStart?.join(', ') ?? '?'} at the start): the cores are shared with other jobs
- command: \`${r.command}\` (${r.totalSeconds?.toFixed(0) ?? '?'} s in all)
- world: ${r.users.toLocaleString('en')} Users over 10 departments, one label-selected AccessBinding per department, each role granting 2 groups in each of ${r.systems.length} systems (${r.systems.join(', ')}); real control plane, slapd, PostgreSQL 15, scim2-server (in memory)
- floors: convergence is judged against the slower of two floors measured in this run: the systems taking the same writes from a raw script (2 raw baseline), and the API server taking N status writes from a raw client with Rollcall's kubeconfig setup, as many in flight as Rollcall's User workers (2 API server floor)
- every figure and the raw data: [${base.split('/').pop()}.json](${base.split('/').pop()}.json)

| section | figure | value | target | |
|---|---|---:|---|---|
${table.map((row) => `| ${row.section} | ${escape(row.figure)} | ${escape(row.value)} | ${escape(row.target)} | ${row.verdict} |`).join('\n')}
${r.notes.length ? `\nNotes:\n\n${r.notes.map((n) => `- ${n}`).join('\n')}\n` : ''}`;
  writeFileSync(`${base}.md`, markdown);
  return { json: `${base}.json`, markdown: `${base}.md` };
}
