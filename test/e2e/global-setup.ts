// One control plane for the whole e2e run: built if missing, CRDs installed, torn down after.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildControlPlane, startControlPlane } from '../servers/controlplane.ts';

export default async function setup(project: TestProject) {
  const binaries = buildControlPlane();
  const controlPlane = await startControlPlane(binaries.controlPlane);
  const env = { ...process.env, KUBECONFIG: controlPlane.kubeconfig };
  const crds = join(import.meta.dirname, '..', '..', 'crds');
  execFileSync('kubectl', ['apply', '-f', crds], { env, stdio: 'inherit' });
  execFileSync('kubectl', ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=rollcall'], { env, stdio: 'inherit' });
  project.provide('kubeconfig', controlPlane.kubeconfig);
  project.provide('helm', binaries.helm);
  return async () => {
    await controlPlane.stop();
  };
}
