// A watching `rollcall run --manifests DIR` as a child process, for fault tests: its output kept,
// /metrics served on a free port, and every TCP connection attempt it makes recorded (through
// count-connections.ts), so a test can count the retries against a system that is down.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLLCALL } from '../helpers/rollcall-cli.ts';
import { eventually, lastLines } from '../helpers/eventually.ts';
import { freePort } from '../servers/test-server.ts';

const PRELOAD = join(import.meta.dirname, 'count-connections.ts');

export interface WatchedRun {
  readonly statePath: string;
  /** Connection attempts to `port` in [fromMs, toMs] (epoch ms, as `nowMs()` gives), in order. */
  attempts(port: number, fromMs: number, toMs?: number): number[];
  /** The value of one counter or gauge in /metrics, summed over the series whose labels contain `labels`. */
  metric(name: string, labels?: string): Promise<number>;
  /** The ConnectedSystem's and every User's Ready condition, as the state file has them. */
  readiness(): { systems: Record<string, string | undefined>; usersNotReady: string[] };
  logs(): string;
  stop(): Promise<void>;
}

/** Epoch milliseconds from the monotonic clock's origin, comparable with what count-connections.ts writes. */
export const nowMs = () => performance.timeOrigin + performance.now();

export async function startWatchedRun(root: string, manifests: string): Promise<WatchedRun> {
  const statePath = join(root, 'state.json');
  const connections = join(root, 'connections.txt');
  writeFileSync(connections, '');
  const healthPort = await freePort();
  const output: string[] = [];
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', PRELOAD, ROLLCALL, 'run', '--manifests', manifests, '--state', statePath, '--health-port', String(healthPort), '--metrics-system-labels'],
    {
      cwd: root,
      env: { ...process.env, ROLLCALL_TEST_CONNECTIONS: connections },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  await eventually(
    () => {
      if (child.exitCode !== null) throw new Error(`rollcall exited ${child.exitCode}:\n${lastLines(output)}`);
      if (!output.join('').includes('Watching')) throw new Error('not watching yet');
    },
    { timeoutMs: 240_000, logs: () => lastLines(output) },
  );

  return {
    statePath,
    attempts: (port, fromMs, toMs = Number.POSITIVE_INFINITY) =>
      readFileSync(connections, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' ').map(Number) as [number, number])
        .filter(([p, at]) => p === port && at >= fromMs && at <= toMs)
        .map(([, at]) => at),
    metric: async (name, labels = '') => {
      const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      return text
        .split('\n')
        .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
        .filter((line) => line.includes(labels))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    },
    readiness: () => {
      const state = JSON.parse(readFileSync(statePath, 'utf8')) as {
        objects: { object: { kind: string; metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } } }[];
      };
      const ready = (o: (typeof state.objects)[number]['object']) => o.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      const objects = state.objects.map((o) => o.object);
      return {
        systems: Object.fromEntries(objects.filter((o) => o.kind === 'ConnectedSystem').map((o) => [o.metadata.name, ready(o)])),
        usersNotReady: objects.filter((o) => o.kind === 'User' && ready(o) !== 'True').map((o) => o.metadata.name),
      };
    },
    logs: () => lastLines(output, 40),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
