// What `rollcall plan` plans from, always an in-memory store so nothing it does can reach a
// cluster or a state file: standalone, the state `rollcall run --manifests` left with the manifests
// over it; against a cluster, what the cluster holds with the manifests laid over it (kubectl diff).
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../clock/clock.ts';
import { ManifestDirectory } from '../manifests/directory.ts';
import type { LoadedObject } from '../manifests/load.ts';
import { overlayManifests } from '../manifests/overlay.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { defaultStatePath } from '../store/state-file.ts';
import type { KubeIdentity } from '../store/kube-config.ts';
import { openEmbeddedStore } from './embedded-store.ts';
import type { Output } from './output.ts';

export interface PlanStore {
  store: MemoryStore;
  /** What was read, for the first line of the text output. */
  source: string;
  /** Cluster objects left out because they do not match the schema (the controllers skip them too). */
  skipped: string[];
}

interface Common {
  logger: Logger;
  clock: Clock;
}

/** Where `plan` and `audit` read from, as their flags say. */
export interface PlanSource {
  /** The manifest directory (-f). Required without kubeconfig. */
  dir?: string;
  /** Read this cluster, with dir laid over it. */
  kubeconfig?: string;
  /** With kubeconfig: the context and whom to impersonate (kubectl's --context, --as, --as-group). */
  identity?: KubeIdentity;
  namespace?: string;
  /** Standalone only: the state file of `rollcall run --manifests` (default: defaultStatePath(dir)). */
  state?: string;
}

/**
 * The started store `plan` and `audit` read, from a cluster or standalone, with the cluster's config
 * (undefined standalone); the objects skipped for not matching the schema are warned of on `out`.
 */
export async function openPlanStore(source: PlanSource, out: Output, common: Common): Promise<PlanStore & { kubeconfig: KubeConfig | undefined }> {
  // The Kubernetes client is loaded only when a cluster is used.
  const kubeconfig = source.kubeconfig === undefined ? undefined : (await import('../store/kube-config.ts')).loadKubeConfig(source.kubeconfig, source.identity);
  const input = kubeconfig
    ? await clusterPlanStore({ dir: source.dir, kubeconfig, namespace: source.namespace, ...common })
    : standalonePlanStore(source.dir!, source.state, common);
  for (const skipped of input.skipped) out.error(`warning: skipped ${skipped} (it does not match the schema; the controllers skip it too)`);
  await input.store.start();
  return { ...input, kubeconfig };
}

/** The state file is only read: a plan never writes it. */
export function standalonePlanStore(dir: string, state: string | undefined, { logger, clock }: Common): PlanStore {
  const statePath = state ?? defaultStatePath(dir);
  const { store, restored } = openEmbeddedStore(dir, statePath, { watch: false, logger, clock });
  const source = restored ? `${dir}, over the state in ${statePath}` : `${dir} (no state file ${statePath} yet: planned as a first run)`;
  return { store, source, skipped: [] };
}

export interface ClusterPlanOptions extends Common {
  dir: string | undefined;
  kubeconfig: KubeConfig;
  namespace: string | undefined;
}

/** Only list and get calls: the cluster is read, never written. */
export async function clusterPlanStore({ dir, kubeconfig, namespace, logger, clock }: ClusterPlanOptions): Promise<PlanStore> {
  // The files first: an invalid one stops the plan before the cluster is asked anything.
  const declared = dir === undefined ? [] : readDirectory(dir, logger);
  if (namespace !== undefined) {
    const elsewhere = declared.filter((object) => object.metadata.namespace !== namespace);
    if (elsewhere.length > 0) {
      const names = elsewhere.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`).join(', ');
      throw new Error(
        `${dir} declares objects outside --namespace ${namespace}: ${names}. Set their metadata.namespace to ${namespace}, or leave out --namespace`,
      );
    }
  }
  const { listResources, clusterSecrets } = await import('../store/kube-read.ts');
  const { objects, skipped } = await listResources(kubeconfig, namespace);
  const overlay = overlayManifests(objects, declared);
  if (overlay.problems.length > 0) {
    throw new Error(
      `the manifests in ${dir} change what the cluster holds in a way the API server would refuse:\n${overlay.problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
  const store = new MemoryStore(overlay.objects, { logger, clock, fallbackSecrets: clusterSecrets(kubeconfig) });
  const cluster = `${kubeconfig.getCurrentCluster()?.server ?? 'the cluster'}${namespace ? ` (namespace ${namespace})` : ''}`;
  return { store, source: dir === undefined ? cluster : `${dir}, over ${cluster}`, skipped };
}

/** The directory's objects, or an error listing every invalid manifest by file and field. */
function readDirectory(dir: string, logger: Logger): LoadedObject[] {
  let objects: readonly LoadedObject[] = [];
  new ManifestDirectory(dir, { applyDeclared: (loaded) => (objects = loaded) }, { watch: false, logger }).load();
  return [...objects];
}
