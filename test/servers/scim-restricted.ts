// The restricted SCIM peer (scim-restricted-server.ts: SCIMMY behind Express, no PATCH, `eq`-only
// filters, pages of 2) as a child process on 127.0.0.1, with its resources in a temp dir so stop() +
// restart() keeps every account, and the test-only controls the server offers under /_test.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScimServer } from './scim.ts';
import { freePort, stopProcess } from './test-server.ts';

const SERVER = join(import.meta.dirname, 'scim-restricted-server.ts');
const READY_TIMEOUT_MS = 30_000;

/** A change the server makes in its store just before answering a matching request (see the server). */
export type HookAction = { deleteUser: string } | { setUser: string; attributes: Record<string, unknown> } | { addMember: string; group: string };

export interface ReceivedRequest {
  method: string;
  /** Path and query, decoded. */
  url: string;
  status?: number;
}

export interface RestrictedScimServer extends ScimServer {
  /** Every request received since the last reset, in order. */
  requests(): Promise<ReceivedRequest[]>;
  /** Before answering the `nth` (default 1) `method` request whose URL contains `contains`, do `actions`; once. */
  hook(hook: { method: string; contains: string; nth?: number; actions: HookAction[] }): Promise<void>;
  /** Whether each hook has fired. */
  hooks(): Promise<{ contains: string; fired: boolean }[]>;
  /** Writes to Users keep these attributes as they were, and still answer 2xx. */
  drop(attributes: string[]): Promise<void>;
  /** Forgets the requests, hooks and dropped attributes. */
  reset(): Promise<void>;
}

export async function startRestricted(): Promise<RestrictedScimServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-scim-restricted-'));
  const port = await freePort();
  const token = `test-${randomBytes(16).toString('hex')}`;
  const origin = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const launch = async () => {
    const log = openSync(join(dir, 'server.log'), 'a');
    child = spawn(process.execPath, [SERVER, '--port', String(port), '--token', token, '--state', join(dir, 'state.json')], { stdio: ['ignore', log, log] });
    closeSync(log);
    killOnExit.add(child);
    await waitUntilReady(origin, token, child, dir);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL'); // every write is already on disk
    await exited;
    killOnExit.delete(running);
  };
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${origin}/_test/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} /_test/${path}: HTTP ${response.status}`);
    return response.json();
  };

  await launch();
  return {
    baseUrl: `${origin}/v2`,
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
    requests: () => control('GET', 'requests') as Promise<ReceivedRequest[]>,
    hook: async (hook) => void (await control('POST', 'hooks', hook)),
    hooks: () => control('GET', 'hooks') as Promise<{ contains: string; fired: boolean }[]>,
    drop: async (attributes) => void (await control('POST', 'drop', { attributes })),
    reset: async () => void (await control('POST', 'reset')),
  };
}

async function waitUntilReady(origin: string, token: string, child: ChildProcess, dir: string): Promise<void> {
  const until = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < until) {
    if (child.exitCode !== null) throw new Error(`the restricted SCIM server exited with ${child.exitCode}; see ${join(dir, 'server.log')}`);
    try {
      const response = await fetch(`${origin}/v2/ServiceProviderConfig`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the restricted SCIM server was not ready within ${READY_TIMEOUT_MS} ms; see ${join(dir, 'server.log')}`);
}

/** A test run that dies must not leave servers behind. */
const killOnExit = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of killOnExit) child.kill('SIGKILL');
});
