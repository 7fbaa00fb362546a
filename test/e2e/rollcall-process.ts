// `rollcall run` as a child process against the test control plane, and a poll helper, for the
// end-to-end tests that watch real servers converge.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

export interface RollcallProcess {
  child: ChildProcess;
  /** Everything it printed so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export function startRollcall(namespace: string, extraArgs: string[] = [], options: { leaderElect?: boolean } = {}): RollcallProcess {
  const args = [
    join(ROOT, 'bin', 'rollcall.js'),
    'run',
    '--kubeconfig',
    inject('kubeconfig'),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...(options.leaderElect ? [] : ['--no-leader-elect']),
    ...extraArgs,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  child.stdout!.on('data', (c: Buffer) => logs.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => logs.push(c.toString()));
  return {
    child,
    output: () => logs.join(''),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `probe` until it returns a value other than undefined (errors count as not yet). */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs?: number; everyMs?: number; logs?: () => string } = {},
): Promise<T> {
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${last ? `: ${String(last)}` : ''}${options.logs ? `\nrollcall output:\n${options.logs().slice(-4000)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 250));
  }
}
