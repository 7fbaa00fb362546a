// 2. The API server's floor, on the same control plane as Rollcall, before the convergence: N Users
// created, then N status writes (PUT users/status, each with the object just created, as Rollcall
// writes them from its cache), issued by a raw client with Rollcall's own kubeconfig setup
// (loadKubeConfig: the same TLS and reused connections) and as many in flight as Rollcall has User
// workers. The Users live in a namespace of their own that Rollcall does not serve (it is started
// with --namespace), are checked, then deleted, so no later phase sees them.
import { CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../../src/store/kube-config.ts';
import type { Kube } from '../kube.ts';
import { eachLimit, now, summary } from '../pool.ts';
import { SYSTEM_NAMES, userObject, type Scope } from '../world.ts';

export const FLOOR_NAMESPACE = 'floor';

export interface FloorResult {
  users: number;
  createConcurrency: number;
  /** Requests in flight for the status writes: Rollcall's User workers. */
  statusConcurrency: number;
  /** First create request → last create answered. */
  createMs: number;
  /** First status write → last status write answered. */
  statusMs: number;
  /** Per status write, request → answer. */
  statusWrite: ReturnType<typeof summary>;
  /** Deleting the Users again (one deletecollection request, then listed until gone). */
  cleanupMs: number;
}

type Created = KubernetesObject & { metadata: { name: string; generation?: number } };

const GROUP = 'rollcall.dev';
const VERSION = 'v1alpha1';

/** A status of the size and shape Rollcall writes for a converged User: Ready, SYSTEMS n/n, one account per system. */
export function convergedStatus(scope: Scope, user: Created, at: string): Record<string, unknown> {
  const generation = user.metadata.generation ?? 1;
  const spec = (user as { spec?: { department?: string } }).spec;
  return {
    observedGeneration: generation,
    state: 'active',
    systems: `${scope.systems.length}/${scope.systems.length}`,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'InSync',
        message: `in sync with ${scope.systems.length} system(s)`,
        lastTransitionTime: at,
        observedGeneration: generation,
      },
    ],
    accounts: scope.systems.map((kind) => ({
      system: SYSTEM_NAMES[kind],
      id: user.metadata.name,
      state: 'present',
      entitlements: [`${scope.tag}-${spec?.department ?? 'd0'}-a`, `${scope.tag}-${spec?.department ?? 'd0'}-b`],
      lastSyncTime: at,
    })),
  };
}

export async function apiServerFloor(
  kube: Kube,
  systems: Scope['systems'],
  users: number,
  concurrency: { create: number; status: number },
): Promise<FloorResult> {
  const scope: Scope = { tag: 'f', namespace: FLOOR_NAMESPACE, systems };
  const custom = loadKubeConfig(kube.kubeconfigPath).makeApiClient(CustomObjectsApi);
  const target = { group: GROUP, version: VERSION, namespace: scope.namespace, plural: 'users' };
  await kube.createNamespace(scope.namespace);

  const created: Created[] = new Array<Created>(users);
  const createStarted = now();
  await eachLimit(
    Array.from({ length: users }, (_, i) => userObject(scope, i)),
    concurrency.create,
    async (body, i) => void (created[i] = (await custom.createNamespacedCustomObject({ ...target, body })) as Created),
  );
  const createMs = now() - createStarted;

  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const latencies: number[] = [];
  const statusStarted = now();
  await eachLimit(created, concurrency.status, async (user) => {
    const sent = now();
    await custom.replaceNamespacedCustomObjectStatus({ ...target, name: user.metadata.name, body: { ...user, status: convergedStatus(scope, user, at) } });
    latencies.push(now() - sent);
  });
  const statusMs = now() - statusStarted;

  // A fast wrong floor must not pass: every User holds the status written.
  const listed = (await custom.listNamespacedCustomObject(target)) as { items: { status?: { systems?: string } }[] };
  const written = listed.items.filter((item) => item.status?.systems === `${systems.length}/${systems.length}`).length;
  if (written !== users) throw new Error(`API server floor: ${written} of ${users} Users in ${scope.namespace} hold the status written`);

  const cleanupStarted = now();
  await custom.deleteCollectionNamespacedCustomObject(target);
  for (;;) {
    const left = (await custom.listNamespacedCustomObject({ ...target, limit: 1 })) as { items: unknown[] };
    if (left.items.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    users,
    createConcurrency: concurrency.create,
    statusConcurrency: concurrency.status,
    createMs,
    statusMs,
    statusWrite: summary(latencies),
    cleanupMs: now() - cleanupStarted,
  };
}
