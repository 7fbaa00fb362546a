// The real servers the tests use, started for one scale run: the control plane with the CRDs
// installed (as test/e2e/global-setup.ts does), slapd, PostgreSQL, and scim2-server kept in memory.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { buildControlPlane, startControlPlane, type ControlPlane } from '../../test/servers/controlplane.ts';
import { startPostgres, type PostgresServer } from '../../test/servers/postgres.ts';
import { ensureScim2Server } from '../../test/servers/scim.ts';
import { start as startSlapd, type SlapdServer } from '../../test/servers/slapd.ts';
import { freePort } from '../../test/servers/test-server.ts';
import { homedir } from 'node:os';

const ROOT = join(import.meta.dirname, '..', '..');

export interface ScimMemoryServer {
  baseUrl: string;
  token: string;
  pid: number;
  close(): Promise<void>;
}

export interface Systems {
  slapd: SlapdServer;
  postgres: PostgresServer;
  scim: ScimMemoryServer;
  close(): Promise<void>;
}

export async function startControlPlaneWithCrds(): Promise<ControlPlane> {
  const binary = process.env.ROLLCALL_CONTROLPLANE ?? buildControlPlane().controlPlane;
  const controlPlane = await startControlPlane(binary);
  try {
    const env = { ...process.env, KUBECONFIG: controlPlane.kubeconfig };
    const crds = join(ROOT, 'crds');
    execFileSync('kubectl', ['apply', '-f', crds], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('kubectl', ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=rollcall'], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
  return controlPlane;
}

export async function startSystems(): Promise<Systems> {
  const [slapd, postgres, scim] = await Promise.allSettled([startSlapd(), startPostgres(), startScimInMemory()]);
  const started = [slapd, postgres, scim].filter((s) => s.status === 'fulfilled').map((s) => s.value);
  const close = async () => void (await Promise.allSettled(started.map((s) => s.close())));
  if (slapd.status === 'rejected' || postgres.status === 'rejected' || scim.status === 'rejected') {
    await close();
    const failed = [slapd, postgres, scim].find((s) => s.status === 'rejected') as PromiseRejectedResult;
    throw failed.reason;
  }
  return { slapd: slapd.value, postgres: postgres.value, scim: scim.value, close };
}

/** See scim-memory.py for why the tests' durable launcher is not used here. */
export async function startScimInMemory(): Promise<ScimMemoryServer> {
  ensureScim2Server();
  const venv = join(process.env.ROLLCALL_CACHE ?? join(homedir(), '.cache', 'rollcall'), 'venv-scim2');
  const port = await freePort();
  const token = `bench-${randomBytes(16).toString('hex')}`;
  const baseUrl = `http://127.0.0.1:${port}/v2`;
  const child: ChildProcess = spawn(
    join(venv, 'bin', 'python'),
    [join(import.meta.dirname, 'scim-memory.py'), '--port', String(port), '--bearer-token', token],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString());
    if (stderr.length > 50) stderr.shift();
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const close = async () => {
    process.off('exit', kill);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`scim-memory.py exited with ${child.exitCode}: ${stderr.join('')}`);
    try {
      const response = await fetch(`${baseUrl}/ServiceProviderConfig`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(1000) });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      await close();
      throw new Error(`scim-memory.py not ready within 30 s: ${stderr.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { baseUrl, token, pid: child.pid!, close };
}
