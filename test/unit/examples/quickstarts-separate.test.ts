// The standalone quick start (rollcall run --manifests examples/quickstart) and the cluster
// walk-through (npm run cluster) must never share a connected system's data: each would report the
// other's accounts as orphans, and orphans: delete would delete them.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConnectedSystem } from '../../../src/api/index.ts';
import { loadManifests } from '../../../src/manifests/load.ts';
import { WALKTHROUGH_MANIFESTS, walkthrough } from '../../cluster-walkthrough.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** The ConnectedSystems that applying `dirs` in order leaves, by namespace/name. */
function systemsAfter(dirs: readonly string[]): Map<string, ConnectedSystem> {
  const systems = new Map<string, ConnectedSystem>();
  for (const dir of dirs) {
    const { objects, errors } = loadManifests(join(ROOT, dir));
    expect(errors).toEqual([]);
    for (const object of objects)
      if (object.kind === 'ConnectedSystem') systems.set(`${object.metadata.namespace}/${object.metadata.name}`, object as ConnectedSystem);
  }
  return systems;
}

describe('the two quick starts', () => {
  it('keep their sqlite data in different files', () => {
    const standalone = [...systemsAfter(['examples/quickstart/']).values()].map((s) => s.spec.sqlite?.path).filter(Boolean);
    const cluster = [...systemsAfter(WALKTHROUGH_MANIFESTS).values()].map((s) => s.spec.sqlite?.path).filter(Boolean);
    expect(standalone).toEqual(['.rollcall/quickstart.db']);
    expect(cluster).toEqual(['.rollcall/cluster.db']);
  });

  it('the walk-through npm run cluster prints applies exactly those manifests', () => {
    expect(walkthrough('/tmp/kubeconfig', '/bin/helm')).toContain('kubectl apply -f examples/quickstart/ -f examples/cluster/');
  });
});
