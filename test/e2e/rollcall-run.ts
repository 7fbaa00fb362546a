// `rollcall run` as a child process against the test control plane: the one way e2e tests start it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import { eventually as eventuallyLogging, lastLines } from '../helpers/eventually.ts';

const ROLLCALL = join(import.meta.dirname, '..', '..', 'bin', 'rollcall.js');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RollcallRun {
  child: ChildProcess;
  /** Everything it printed, for failure messages. */
  logs: string[];
  /** The same, as one string. */
  output(): string;
  /** SIGKILL: no shutdown, nothing flushed; what survives is what the API server holds. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it exited. */
  stop(): Promise<void>;
}

/** Starts `rollcall run` on one namespace with `extra` flags; without leader election unless asked. */
export function startRollcall(namespace: string, extra: string[] = [], options: { leaderElect?: boolean } = {}): RollcallRun {
  const args = [
    ROLLCALL,
    'run',
    '--kubeconfig',
    inject('kubeconfig'),
    '--namespace',
    namespace,
    ...(options.leaderElect ? [] : ['--no-leader-elect']),
    '--log-level',
    'warn',
    ...extra,
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return { child, logs, output: () => logs.join(''), kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}

/** Retries `check` until it stops throwing; on timeout rethrows its last error with the run's last log lines. */
export function eventually<T>(check: () => Promise<T> | T, run: RollcallRun | undefined, timeoutMs = 60_000, intervalMs = 300): Promise<T> {
  return eventuallyLogging(check, { timeoutMs, intervalMs, logs: () => lastLines(run?.logs ?? []) });
}
