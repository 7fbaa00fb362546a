// `rollcall ARGS` as a child process, as a person runs it: its exit code and everything it printed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROLLCALL = join(import.meta.dirname, '..', '..', 'bin', 'rollcall.js');

export interface RollcallOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `rollcall ARGS` in `cwd` (default: this process's) to its end. */
export function rollcall(args: string[], cwd?: string): Promise<RollcallOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ROLLCALL, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
