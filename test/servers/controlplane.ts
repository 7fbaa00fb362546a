// Starts the real test control plane (etcd + kube-apiserver built from the Kubernetes Go modules
// by test/controlplane/build.sh) on a free loopback port, and stops it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(import.meta.dirname, '..', '..');

export interface Binaries {
  controlPlane: string;
  helm: string;
}

/** Builds the binaries when missing (cached outside the repo) and returns their paths. */
export function buildControlPlane(): Binaries {
  const output = execFileSync('bash', [join(ROOT, 'test', 'controlplane', 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const find = (pattern: RegExp) => {
    const match = output.match(pattern);
    if (!match) throw new Error(`test/controlplane/build.sh did not print a path matching ${pattern}:\n${output}`);
    return match[1]!;
  };
  return { controlPlane: find(/(\/\S*rollcall-controlplane[^\s/]*)\s*$/m), helm: find(/(\/\S*\/helm[^\s/]*)\s*$/m) };
}

export interface ControlPlane {
  kubeconfig: string;
  dir: string;
  stop(): Promise<void>;
}

type ControlPlaneOptions = { dir?: string; port?: number; timeoutMs?: number; args?: string[]; apiServerArgs?: readonly string[] };

/**
 * `args`: more rollcall-controlplane flags, e.g. --workloads for a cluster with a node (test/node).
 * The binary picks free ports itself and binds them a moment later; another process can take one in
 * between ("address already in use"), so such a start is tried again, at most twice.
 */
export async function startControlPlane(binary: string, options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binary, options);
    } catch (error) {
      if (attempt >= 3 || options.port !== undefined || !/address already in use/.test(String(error))) throw error;
    }
  }
}

async function startOnce(binary: string, options: ControlPlaneOptions): Promise<ControlPlane> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'rollcall-cp-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const args = ['--kubeconfig', kubeconfig, '--dir', join(dir, 'data')];
  if (options.port) args.push('--port', String(options.port));
  args.push(...(options.args ?? []));
  if (options.apiServerArgs?.length) args.push('--', ...options.apiServerArgs);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString());
    if (stderr.length > 200) stderr.shift();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`control plane not ready in time:\n${stderr.join('').slice(-4000)}`)), options.timeoutMs ?? 180_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`control plane exited with ${code}:\n${stderr.join('').slice(-4000)}`));
    });
  });
  return {
    kubeconfig,
    dir,
    stop: () => stop(child, options.dir ? undefined : dir),
  };
}

async function stop(child: ChildProcess, removeDir: string | undefined): Promise<void> {
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
  if (removeDir) rmSync(removeDir, { recursive: true, force: true });
}
