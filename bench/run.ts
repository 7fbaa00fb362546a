// `npm run bench`: every benchmark once, a table on the console, and the same table with the
// machine and the command in bench/results/<date>.md. Kept under ~2 minutes on 2 shared cores.
// `npm run bench -- --scale [--users N]`: the scale benchmark against real servers (bench/scale/).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { embeddedBenchmark, onDiskBenchmark } from './embedded.bench.ts';
import { engineBenchmark } from './engine.bench.ts';
import { leaverBenchmark } from './leaver.bench.ts';
import type { Row } from './measure.ts';
import { postgresBenchmark } from './postgres.bench.ts';

const args = process.argv.slice(2);
if (args.includes('--scale')) {
  const { runScale } = await import('./scale/main.ts');
  process.exit(await runScale(args));
}

const COMMAND = 'npm run bench';
const started = performance.now();
const rows: Row[] = [];
const step = async (name: string, run: () => Promise<Row[]>) => {
  const at = performance.now();
  process.stderr.write(`${name}...`);
  try {
    rows.push(...(await run()));
  } catch (error) {
    // One benchmark that cannot run (no PostgreSQL here) must not hide the others' figures.
    rows.push({ benchmark: name, case: 'failed', median: '-', detail: error instanceof Error ? error.message.split('\n')[0]! : String(error) });
  }
  process.stderr.write(` ${((performance.now() - at) / 1000).toFixed(1)} s\n`);
};

await step('engine', () => engineBenchmark([1000, 10_000]));
await step('embedded', () => embeddedBenchmark([200, 1000]));
await step('embedded on disk', () => onDiskBenchmark(100, 3));
let leaver: Awaited<ReturnType<typeof leaverBenchmark>> | undefined;
await step('leaver', async () => (leaver = await leaverBenchmark(1000, 7)).rows);
await step('postgres', () => postgresBenchmark(200, 3));
const totalSeconds = (performance.now() - started) / 1000;

function table(all: Row[]): string {
  const escape = (text: string) => text.replaceAll('|', '\\|');
  return [
    '| benchmark | case | median | detail |',
    '|---|---|---:|---|',
    ...all.map((r) => `| ${r.benchmark} | ${escape(r.case)} | ${r.median} | ${escape(r.detail)} |`),
  ].join('\n');
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const date = new Date().toISOString().slice(0, 10);
const machine = [
  `- date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, commit ${gitCommit()}`,
  `- machine: ${availableParallelism()} cores (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, shared with other jobs`,
  `- Node ${process.version} (${process.platform}/${process.arch})`,
  `- command: \`${COMMAND}\` (all benchmarks: ${totalSeconds.toFixed(0)} s)`,
  `- sqlite files on ${existsSync('/dev/shm') ? 'tmpfs (/dev/shm)' : 'the temp directory'} unless the case says "on disk"`,
].join('\n');
const headline = leaver
  ? `\nA leaver is cut off ${Math.round(leaver.cycleRatio).toLocaleString('en')}× faster than a 40-minute periodic cycle (${leaver.medianMs.toFixed(0)} ms from the manifest reload to the account disabled in 3 systems, 1,000 Users converged).\n`
  : '';

const report = `# Benchmarks, ${date}

${machine}

Medians over n iterations (node:perf_hooks), after warm-up runs where the case allows them.
${headline}
${table(rows)}

What each case measures:

- **engine**: \`desiredAccounts\` for every User plus \`planChanges\` per system, pure CPU. "full resync, in sync" is what
  a periodic resync costs when nothing changed (it must plan 0 changes); "first sync" plans against empty systems.
- **embedded**: \`rollcall run --manifests DIR --once\` in-process: MemoryStore from the manifest files, the Manager, three
  sqlite ConnectedSystems. "cold" starts from empty files; "warm" passes run over files already in sync and are checked
  to write nothing (no change applied, sum of the accounts' \`version\` column, row and membership counts unchanged).
- **leaver**: 1,000 Users converged in the embedded setup; one User's manifest gets \`state: terminated\`, the store re-reads
  the directory (what the file watcher does after its 100 ms debounce, not counted), and the clock stops when the account
  is disabled, entitlements revoked first, in all 3 systems. The second row starts at the store's update event, as a
  Kubernetes watch would deliver it.
- **postgres**: the PostgreSQL connector against a real PostgreSQL 15 (test/servers/postgres.ts, fsync off): \`create\` then
  \`grant\` of one group role for 200 roles, one at a time and 4 at a time.
`;

console.log(`\n${machine}\n${headline}\n${table(rows)}`);
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${date}.md`);
writeFileSync(file, report);
console.log(`\nwritten to ${file}`);
