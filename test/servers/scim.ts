// A real SCIM 2.0 server for tests: python-scim's scim2-server, installed by
// scripts/install/scim2-server.sh into a venv outside the repo, served on 127.0.0.1 on a free port
// with a bearer token, its resources kept in a temp dir so stop() + restart() is a real restart
// that keeps every account (see scim2-server-persistent.py for why a launcher is needed).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stopProcess, type ServerControl } from './test-server.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const VENV = join(process.env['ROLLCALL_CACHE'] ?? join(homedir(), '.cache', 'rollcall'), 'venv-scim2');
const PYTHON = join(VENV, 'bin', 'python');
const LAUNCHER = join(HERE, 'scim2-server-persistent.py');
const READY_TIMEOUT_MS = 30_000;

export interface ScimServer extends ServerControl {
  /** The SCIM base URL, e.g. http://127.0.0.1:PORT/v2 */
  baseUrl: string;
  /** The bearer token the server accepts. */
  token: string;
}

/** Installs scim2-server through the project's script when the venv lacks it. */
export function ensureScim2Server(): void {
  if (existsSync(join(VENV, 'bin', 'scim2-server'))) return;
  const result = spawnSync('bash', [join(REPO, 'scripts', 'install', 'scim2-server.sh')], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`scripts/install/scim2-server.sh failed (exit ${result.status})`);
}

export interface ScimOptions {
  /**
   * Keep every resource in a file, written after each write, so restart() keeps the accounts
   * (default). Off, resources live in memory only and restart() starts empty: for a suite of a
   * thousand accounts that never restarts the server, where rewriting the file on every write
   * would make each write cost as much as all the accounts together.
   */
  durable?: boolean;
}

export async function start({ durable = true }: ScimOptions = {}): Promise<ScimServer> {
  ensureScim2Server();
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-scim-'));
  const port = await freePort();
  const token = `test-${randomBytes(16).toString('hex')}`;
  const baseUrl = `http://127.0.0.1:${port}/v2`;
  let child: ChildProcess | undefined;

  const launch = async () => {
    const log = openSync(join(dir, 'server.log'), 'a');
    const args = [LAUNCHER, '--port', String(port), '--bearer-token', token, ...(durable ? ['--state', join(dir, 'resources.json')] : [])];
    child = spawn(PYTHON, args, { cwd: dir, stdio: ['ignore', log, log] });
    closeSync(log);
    killOnExit.add(child);
    await waitUntilReady(baseUrl, token, child, dir);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    // SIGKILL also ends a frozen process; every write is already on disk, so nothing is lost.
    running.kill('SIGKILL');
    await exited;
    killOnExit.delete(running);
  };

  await launch();
  return {
    baseUrl,
    token,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    freeze: () => stopProcess(child?.pid),
    thaw: async () => void child?.kill('SIGCONT'),
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilReady(baseUrl: string, token: string, child: ChildProcess, dir: string): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`scim2-server exited with ${child.exitCode}; see ${join(dir, 'server.log')}`);
    try {
      const response = await fetch(`${baseUrl}/ServiceProviderConfig`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`scim2-server not ready within ${READY_TIMEOUT_MS} ms; see ${join(dir, 'server.log')}`);
}

/** A test run that dies must not leave servers behind. */
const killOnExit = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of killOnExit) child.kill('SIGKILL');
});
