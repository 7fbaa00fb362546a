// A real Kubernetes node for the test control plane: containerd (with runc and the CNI bridge
// plugin) and a kubelet, built from Go modules by test/node/build.sh, all state in a temporary
// directory. Pods run on a bridge (rollcall0, 10.88.0.0/24), each in its own network namespace, so
// two replicas can listen on the same port. They reach the API server the way a pod does, at the
// `kubernetes` Service's address (10.0.0.1:443, which the serving certificate names): that address
// is put on the host's loopback interface and forwarded here to the API server's loopback port,
// doing for one Service what kube-proxy would. Needs root (namespaces, mounts, interfaces).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../helpers/eventually.ts';

const HERE = import.meta.dirname;
const SERVICE_IP = '10.0.0.1';
const POD_SUBNET = '10.88.0.0/24';
const BRIDGE = 'rollcall0';
export const PAUSE_IMAGE = 'rollcall.test/pause:1';

export interface NodeBinaries {
  kubelet: string;
  containerdDir: string;
  runc: string;
  cniDir: string;
  pauseImage: string;
}

/** Builds the node's binaries when missing (cached outside the repo) and returns their paths. */
export function buildNode(): NodeBinaries {
  const lines = execFileSync('bash', [join(HERE, 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n');
  if (lines.length !== 5) throw new Error(`test/node/build.sh printed ${lines.length} lines, not 5:\n${lines.join('\n')}`);
  const [kubelet, containerdDir, runc, cniDir, pauseImage] = lines as [string, string, string, string, string];
  return { kubelet, containerdDir, runc, cniDir, pauseImage };
}

export interface TestNode {
  name: string;
  dir: string;
  /** Imports an OCI archive into the node's containerd (where the kubelet finds images). */
  importImage(archive: string): void;
  /** The last lines the kubelet and containerd wrote, for a failing test's message. */
  logs(): string;
  stop(): Promise<void>;
}

interface Options {
  kubeconfig: string;
  binaries: NodeBinaries;
  name?: string;
}

/** Starts containerd and a kubelet registered to the API server of `kubeconfig`; resolves once the node is Ready. */
export async function startNode({ kubeconfig, binaries, name = 'rollcall-node' }: Options): Promise<TestNode> {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-node-'));
  const socket = join(dir, 'containerd.sock');
  const logs: Record<string, string[]> = { containerd: [], kubelet: [] };
  const children: ChildProcess[] = [];
  const netnsBefore = listNetns();
  let proxy: Server | undefined;

  const ctr = (...args: string[]) =>
    execFileSync(join(binaries.containerdDir, 'ctr'), ['--address', socket, '--namespace', 'k8s.io', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const start = (label: string, binary: string, args: string[]) => {
    const child = spawn(binary, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      // containerd finds containerd-shim-runc-v2 on its PATH.
      env: { ...process.env, PATH: `${binaries.containerdDir}:${process.env.PATH}` },
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      const lines = logs[label]!;
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      if (lines.length > 300) lines.splice(0, lines.length - 300);
    });
    children.push(child);
    return child;
  };
  const tail = () =>
    Object.entries(logs)
      .map(([label, lines]) => `--- ${label}\n${lines.slice(-40).join('\n')}`)
      .join('\n');

  const stop = async () => {
    // The kubelet first (it would restart what is killed), then every container, then containerd.
    const [containerd, kubelet] = children;
    if (kubelet) await kill(kubelet);
    if (containerd && containerd.exitCode === null) {
      try {
        for (const task of ctr('tasks', 'ls', '-q').split('\n').filter(Boolean)) {
          try {
            ctr('tasks', 'kill', '--signal', 'SIGKILL', task);
          } catch {
            // already stopped
          }
        }
        await sleep(500);
        for (const task of ctr('tasks', 'ls', '-q').split('\n').filter(Boolean)) ctr('tasks', 'delete', '--force', task);
        for (const container of ctr('containers', 'ls', '-q').split('\n').filter(Boolean)) ctr('containers', 'delete', container);
      } catch (error) {
        console.error(`test node: cleaning containers: ${(error as Error).message}`);
      }
      await kill(containerd);
    }
    proxy?.close();
    // What the sandboxes left on the host: network namespaces, mounts under dir, the bridge, the address.
    for (const ns of listNetns()) {
      if (netnsBefore.has(ns)) continue;
      spawnQuiet('umount', [join('/var/run/netns', ns)]);
      rmSync(join('/var/run/netns', ns), { force: true });
    }
    for (const mount of mountsUnder(dir).reverse()) spawnQuiet('umount', ['-l', mount]);
    spawnQuiet('ip', ['link', 'delete', BRIDGE]);
    spawnQuiet('ip', ['addr', 'del', `${SERVICE_IP}/32`, 'dev', 'lo']);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // ---- the `kubernetes` Service's address, forwarded to the API server ----
    const server = new URL(readKubeconfigServer(kubeconfig));
    // On the loopback interface (this kernel has no dummy links); local whatever interface a pod's
    // packet arrives on.
    spawnQuiet('ip', ['addr', 'del', `${SERVICE_IP}/32`, 'dev', 'lo']);
    execFileSync('ip', ['addr', 'add', `${SERVICE_IP}/32`, 'dev', 'lo']);
    proxy = createServer((client) => {
      const upstream = connect(Number(server.port), server.hostname);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      proxy!.once('error', reject);
      proxy!.listen(443, SERVICE_IP, resolve);
    });

    // ---- containerd ----
    const netConf = join(dir, 'net.d');
    mkdirSync(netConf);
    writeFileSync(
      join(netConf, '10-rollcall.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'rollcall-test',
        plugins: [
          {
            type: 'bridge',
            bridge: BRIDGE,
            isGateway: true,
            ipMasq: false,
            ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(dir, 'ipam') },
          },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'containerd.toml'),
      `version = 3
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "${PAUSE_IMAGE}"
[plugins."io.containerd.cri.v1.runtime"]
  # Root here lacks CAP_SYS_RESOURCE, so a container's oom_score_adj cannot go below containerd's
  # (runc's "failed to update /proc/self/oom_score_adj: Permission denied" for every sandbox).
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "${binaries.runc}"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["${binaries.cniDir}"]
    conf_dir = "${netConf}"
`,
    );
    const containerd = start('containerd', join(binaries.containerdDir, 'containerd'), ['--config', join(dir, 'containerd.toml')]);
    await eventually(
      () => {
        if (containerd.exitCode !== null) throw new Error(`containerd exited with ${containerd.exitCode}`);
        ctr('version');
      },
      { timeoutMs: 60_000, logs: tail },
    );
    const importImage = (archive: string) => void ctr('images', 'import', '--platform', 'linux/amd64', archive);
    importImage(binaries.pauseImage);

    // ---- kubelet ----
    const kubeletDir = join(dir, 'kubelet');
    mkdirSync(kubeletDir);
    writeFileSync(
      join(dir, 'kubelet.yaml'),
      `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This VM mounts cgroup v1; since Kubernetes 1.35 the kubelet refuses it unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
# No QoS cgroup tree and no node-allocatable enforcement: the node is a test's guest on the machine.
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
containerRuntimeEndpoint: unix://${socket}
address: 127.0.0.1
port: ${await freePort()}
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
# The machine's disk and memory are shared with other tests: never evict the test's pods, never
# garbage-collect the imported images (they cannot be pulled again).
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
registerNode: true
`,
    );
    const kubelet = start('kubelet', binaries.kubelet, [
      '--config',
      join(dir, 'kubelet.yaml'),
      // The admin's client certificate: a static credential the control plane accepts, instead of
      // TLS bootstrapping (no CSR approver runs here).
      '--kubeconfig',
      kubeconfig,
      '--root-dir',
      kubeletDir,
      '--cert-dir',
      join(dir, 'kubelet-pki'),
      '--hostname-override',
      name,
      '--v',
      '1',
    ]);
    const kubectl = (...args: string[]) =>
      execFileSync('kubectl', args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    await eventually(
      () => {
        if (kubelet.exitCode !== null) throw new Error(`kubelet exited with ${kubelet.exitCode}`);
        const ready = kubectl('get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}');
        if (ready !== 'True') throw new Error(`node ${name} not Ready (${ready || 'not registered'})`);
      },
      { timeoutMs: 180_000, intervalMs: 1000, logs: tail },
    );
    // The kubelet registers with the not-ready taint; the node lifecycle controller (not run
    // here) would lift it once the node reports Ready.
    const taints = kubectl('get', 'node', name, '-o', 'jsonpath={.spec.taints[*].key}');
    if (taints.includes('node.kubernetes.io/not-ready')) kubectl('taint', 'node', name, 'node.kubernetes.io/not-ready-');
    return { name, dir, importImage, logs: tail, stop };
  } catch (error) {
    if (error instanceof Error) error.message += `\n${tail()}`;
    await stop();
    throw error;
  }
}

function readKubeconfigServer(kubeconfig: string): string {
  const match = readFileSync(kubeconfig, 'utf8').match(/server:\s*(\S+)/);
  if (!match) throw new Error(`no server in ${kubeconfig}`);
  return match[1]!;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function listNetns(): Set<string> {
  return new Set(existsSync('/var/run/netns') ? readdirSync('/var/run/netns') : []);
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mount): mount is string => !!mount && mount.startsWith(`${dir}/`));
}

function spawnQuiet(binary: string, args: string[]): void {
  try {
    execFileSync(binary, args, { stdio: 'ignore' });
  } catch {
    // nothing to undo
  }
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
