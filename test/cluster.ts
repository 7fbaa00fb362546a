// `npm run cluster`: a real control plane (etcd + kube-apiserver) for a person to try Rollcall
// against, with the CRDs installed. Ctrl-C stops it.
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

const stop = async () => {
  await controlPlane.stop();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
