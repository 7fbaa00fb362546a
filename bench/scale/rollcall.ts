// `rollcall run` as a child process, as in production: its /metrics, and what /proc says about it
// (CPU seconds, peak RSS). The pinned Node 24 runs it directly, so the child is the process itself
// (bin/rollcall.js would otherwise re-exec and the pid would be a wrapper's).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/servers/test-server.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** ROLLCALL_SCALE_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": flags for the node of each rollcall process (the operator, the standalone run). */
export function nodeArgs(): string[] {
  return (process.env.ROLLCALL_SCALE_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

export function nodeBinary(): string {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  if (major > 22 || (major === 22 && minor >= 18)) return process.execPath;
  const pinned = join(ROOT, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) throw new Error('no Node >= 22.18 to run rollcall with (the pinned one is in node_modules/node)');
  return pinned;
}

export interface ProcessStats {
  cpuSeconds: number;
  rssBytes: number;
  peakRssBytes: number;
}

export class RollcallProcess {
  readonly child: ChildProcess;
  readonly healthPort: number;
  readonly #log: string[] = [];
  /** Log lines per message, e.g. "reconcile failed": how often each warning was seen. */
  readonly messages = new Map<string, number>();

  private constructor(child: ChildProcess, healthPort: number) {
    this.child = child;
    this.healthPort = healthPort;
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        this.#log.push(line);
        if (this.#log.length > 300) this.#log.shift();
        try {
          const message = String((JSON.parse(line) as { msg?: string }).msg);
          this.messages.set(message, (this.messages.get(message) ?? 0) + 1);
        } catch {
          // not a JSON log line
        }
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
  }

  static async start(kubeconfig: string, namespace: string): Promise<RollcallProcess> {
    const healthPort = await freePort();
    const args = [
      join(ROOT, 'bin', 'rollcall.js'),
      'run',
      '--kubeconfig',
      kubeconfig,
      '--namespace',
      namespace,
      '--no-leader-elect',
      '--health-port',
      String(healthPort),
      '--log-level',
      'warn',
    ];
    const child = spawn(nodeBinary(), [...nodeArgs(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const rollcall = new RollcallProcess(child, healthPort);
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    child.once('exit', () => process.off('exit', kill));
    const deadline = performance.now() + 60_000;
    while (!(await rollcall.#ready())) {
      if (child.exitCode !== null) throw new Error(`rollcall exited with ${child.exitCode}:\n${rollcall.tail()}`);
      if (performance.now() > deadline) throw new Error(`rollcall not ready within 60 s:\n${rollcall.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return rollcall;
  }

  async #ready(): Promise<boolean> {
    try {
      return (await fetch(`http://127.0.0.1:${this.healthPort}/readyz`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  tail(lines = 30): string {
    return this.#log.slice(-lines).join('\n');
  }

  /** The Prometheus text parsed to series → value, e.g. `controller_runtime_reconcile_total{controller="user",result="success"}`. */
  async metrics(): Promise<Map<string, number>> {
    const text = await (await fetch(`http://127.0.0.1:${this.healthPort}/metrics`, { signal: AbortSignal.timeout(30_000) })).text();
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      out.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return out;
  }

  stats(): ProcessStats {
    return procStats(this.pid);
  }

  async stop(): Promise<number | null> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}

/** CPU seconds (utime + stime), RSS and peak RSS (VmHWM) of a live process, from /proc. */
export function procStats(pid: number): ProcessStats {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { cpuSeconds, rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

/** Sum of the series of one metric whose labels include every `match` pair. */
export function metricSum(metrics: Map<string, number>, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const [series, value] of metrics) {
    if (series !== name && !series.startsWith(`${name}{`)) continue;
    if (Object.entries(match).every(([k, v]) => series.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}
