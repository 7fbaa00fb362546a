// One control plane for the whole e2e run: built if missing, torn down after. The CRDs, the approval
// admission policies and the approver ClusterRole come from the chart, as a user gets them: release
// "rollcall" in rollcall-system, with no replica (tests run Rollcall themselves). Another release in
// these tests sets crds.install=false and admissionPolicies.install=false: this one owns them.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildControlPlane, startControlPlane } from '../servers/controlplane.ts';

export default async function setup(project: TestProject) {
  const binaries = buildControlPlane();
  const controlPlane = await startControlPlane(binaries.controlPlane);
  const env = { ...process.env, KUBECONFIG: controlPlane.kubeconfig };
  const chart = join(import.meta.dirname, '..', '..', 'charts', 'rollcall');
  execFileSync(binaries.helm, ['install', 'rollcall', chart, '--namespace', 'rollcall-system', '--create-namespace', '--set', 'replicas=0'], {
    env,
    stdio: 'inherit',
  });
  execFileSync('kubectl', ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=rollcall'], {
    env,
    stdio: 'inherit',
  });
  project.provide('kubeconfig', controlPlane.kubeconfig);
  project.provide('helm', binaries.helm);
  return async () => {
    await controlPlane.stop();
  };
}
