// `npm run cluster`: a real control plane (etcd + kube-apiserver) for a person to try Rollcall
// against, with the chart installed as a user installs it (release rollcall in rollcall-system, no
// replica: the walk-through runs Rollcall from the checkout). The chart owns the CRDs, the admission
// policies and the approver ClusterRole; nothing else applies them. Ctrl-C, SIGTERM or the end of whoever started it stops it.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { walkthrough } from './cluster-walkthrough.ts';
import { buildControlPlane, startControlPlane } from './servers/controlplane.ts';

const root = join(import.meta.dirname, '..');
const binaries = buildControlPlane();
const controlPlane = await startControlPlane(binaries.controlPlane);
const env = { ...process.env, KUBECONFIG: controlPlane.kubeconfig };
execFileSync(
  binaries.helm,
  ['install', 'rollcall', join(root, 'charts', 'rollcall'), '--namespace', 'rollcall-system', '--create-namespace', '--set', 'replicas=0'],
  { env, stdio: 'inherit' },
);
execFileSync('kubectl', ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=rollcall'], { env, stdio: 'inherit' });

console.log(walkthrough(controlPlane.kubeconfig, binaries.helm));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await controlPlane.stop();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
process.once('SIGHUP', stop);
// `npm run cluster` runs this under `sh -c`: npm passes SIGTERM to the shell, which may die without
// passing it on, leaving this process (and the API server) behind, re-parented. Whoever started us
// is gone once our parent changes: stop then too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop();
}, 500).unref();
