// `npm run cluster`: a real control plane (etcd + kube-apiserver) for a person to try Rollcall
// against, with the CRDs installed. Ctrl-C, SIGTERM or the end of whoever started it stops it.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { walkthrough } from './cluster-walkthrough.ts';
import { buildControlPlane, startControlPlane } from './servers/controlplane.ts';

const root = join(import.meta.dirname, '..');
const binaries = buildControlPlane();
const controlPlane = await startControlPlane(binaries.controlPlane);
const env = { ...process.env, KUBECONFIG: controlPlane.kubeconfig };
execFileSync('kubectl', ['apply', '-f', join(root, 'crds')], { env, stdio: 'inherit' });

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
