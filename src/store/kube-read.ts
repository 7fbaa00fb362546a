// Read-only calls to the API server, shared by KubeStore and `rollcall plan --kubeconfig`: a plan
// reads the cluster once with plain list calls (no watch to keep open) and must never write to it.
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { GROUP, KINDS, KIND_NAMES, VERSION } from '../api/index.ts';
import type { AnyResource, ObjectKey, SecretMetadata, Store } from './store.ts';

/** The HTTP status of a client-node error, if it has one. */
export function statusCode(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

/** The decoded data of a Secret, or undefined when it does not exist. Never log it. */
export async function readSecret(core: CoreV1Api, key: ObjectKey): Promise<Record<string, string> | undefined> {
  try {
    const secret = await core.readNamespacedSecret(key);
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([name, value]) => [name, Buffer.from(value, 'base64').toString('utf8')]));
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw error;
  }
}

/** The labels and annotations of a Secret, or undefined when it does not exist. */
export async function readSecretMetadata(core: CoreV1Api, key: ObjectKey): Promise<SecretMetadata | undefined> {
  try {
    const { metadata } = await core.readNamespacedSecret(key);
    return { labels: metadata?.labels ?? {}, annotations: metadata?.annotations ?? {} };
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw error;
  }
}

/** The cluster's Secrets, read one at a time when asked for (a plan needs only its systems' credentials). */
export function clusterSecrets(kubeconfig: KubeConfig): FallbackSecrets {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  return { getSecret: (key) => readSecret(core, key), getSecretMetadata: (key) => readSecretMetadata(core, key) };
}

/** Where Secrets come from when a store does not hold them itself. */
export type FallbackSecrets = Pick<Store, 'getSecret' | 'getSecretMetadata'>;

export interface ClusterResources {
  /** Every Rollcall object, parsed with the same schema as the controllers' (defaults applied). */
  objects: AnyResource[];
  /** Objects the controllers would skip too (they do not match the schema), each with why. */
  skipped: string[];
}

/** Every object of every Rollcall kind, in one namespace or all, as the API server holds it now. */
export async function listResources(kubeconfig: KubeConfig, namespace?: string): Promise<ClusterResources> {
  const custom = kubeconfig.makeApiClient(CustomObjectsApi);
  const objects: AnyResource[] = [];
  const skipped: string[] = [];
  for (const kind of KIND_NAMES) {
    const plural = KINDS[kind].plural;
    let items: KubernetesObject[];
    try {
      const list = namespace
        ? await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural })
        : await custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: plural });
      items = (list as { items?: KubernetesObject[] }).items ?? [];
    } catch (error) {
      const hint =
        statusCode(error) === 404
          ? ' (are the CRDs installed? helm install charts/rollcall, or kubectl apply -f crds/)'
          : statusCode(error) === 403
            ? ' (may this kubeconfig list them?)'
            : '';
      throw new Error(`cannot list ${plural}.${GROUP} from ${kubeconfig.getCurrentCluster()?.server ?? 'the cluster'}${hint}: ${firstLine(error)}`, {
        cause: error,
      });
    }
    for (const item of items) {
      // A list's items may leave out apiVersion and kind: they are the list's.
      const result = KINDS[kind].resource.safeParse({ apiVersion: `${GROUP}/${VERSION}`, kind, ...item });
      if (result.success) objects.push(result.data as AnyResource);
      else
        skipped.push(
          `${kind} ${item.metadata?.namespace}/${item.metadata?.name}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
    }
  }
  return { objects, skipped };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
