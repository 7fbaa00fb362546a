// The real test control plane (test/controlplane: embedded etcd + kube-apiserver) for the kubernetes
// connector's conformance run, with the process control the suite needs: stop and start again on
// the same port with the same data, SIGSTOP and SIGCONT.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';
import { buildControlPlane } from './controlplane.ts';

export interface KubeApiServer {
  /** Written by the control plane at every start; its certificates change at each start. */
  kubeconfigPath: string;
  /** A fresh admin KubeConfig read from kubeconfigPath. */
  admin(): KubeConfig;
  /** SIGTERM and wait: etcd's data stays for start(). */
  stop(): Promise<void>;
  /** Starts again on the same port with the same data directory. */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing answers. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Stops the process and removes its directory. */
  close(): Promise<void>;
}

/** ROLLCALL_CONTROLPLANE names a prebuilt binary; otherwise test/controlplane/build.sh builds it (cached). */
function binary(): string {
  return process.env.ROLLCALL_CONTROLPLANE ?? buildControlPlane().controlPlane;
}

export async function startKubeApiServer(): Promise<KubeApiServer> {
  const path = binary();
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-kube-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const admin = () => {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfigPath);
    return config;
  };
  let port = 0; // the first start picks a free port; later starts reuse it
  let child: ChildProcess | undefined;

  const start = async () => {
    child = await launch(path, ['--kubeconfig', kubeconfigPath, '--dir', join(dir, 'data'), '--port', String(port)]);
    port = Number(new URL(admin().getCurrentCluster()!.server).port);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (running) await terminate(running);
  };
  await start();
  return {
    kubeconfigPath,
    admin,
    start,
    stop,
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    async close() {
      child?.kill('SIGCONT');
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function launch(path: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = []; // the last lines of stderr, for a failure message; reading it also keeps the pipe from filling
  child.stderr!.on('data', (chunk: Buffer) => {
    log.push(chunk.toString());
    if (log.length > 100) log.shift();
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`${path} ${why}:\n${log.join('').slice(-4000)}`));
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail('was not ready within 180 s');
    }, 180_000);
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('READY ')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve();
    });
  });
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGCONT'); // a frozen process cannot handle SIGTERM
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}
