// `rollcall run` as a child process against the test control plane, for e2e tests that restart it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import { eventually as eventuallyLogging, lastLines } from '../helpers/eventually.ts';

const ROLLCALL = join(import.meta.dirname, '..', '..', 'bin', 'rollcall.js');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RollcallRun {
  /** Everything it printed, for failure messages. */
  logs: string[];
  /** SIGKILL: no shutdown, nothing flushed; what survives is what the API server holds. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `rollcall run` on one namespace, without leader election, with `extra` flags. */
export function startRollcall(namespace: string, extra: string[] = []): RollcallRun {
  const child: ChildProcess = spawn(
    process.execPath,
    [ROLLCALL, 'run', '--kubeconfig', inject('kubeconfig'), '--namespace', namespace, '--no-leader-elect', '--log-level', 'warn', ...extra],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return { logs, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}

/** Retries `check` until it stops throwing; on timeout rethrows its last error with the run's last log lines. */
export function eventually<T>(check: () => Promise<T> | T, run: RollcallRun | undefined, timeoutMs = 60_000, intervalMs = 300): Promise<T> {
  return eventuallyLogging(check, { timeoutMs, intervalMs, logs: () => lastLines(run?.logs ?? []) });
}
