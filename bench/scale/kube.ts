// The benchmark's side of the API server: creates objects at a bounded concurrency, patches Users,
// watches Users for readiness (one informer, so N Users are not polled), and reads the API server's
// own request counter (apiserver_request_total) for the requests Rollcall makes. Its kubeconfig is
// set up as Rollcall's (loadKubeConfig): connections are reused, as kubectl's are, instead of a TLS
// handshake per request that the benchmark and the API server pay in CPU while Rollcall converges.
import { execFileSync } from 'node:child_process';
import {
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
  type KubeConfig,
  type V1Secret,
} from '@kubernetes/client-node';
import { loadKubeConfig } from '../../src/store/kube-config.ts';
import { eachLimit, now } from './pool.ts';

const GROUP = 'rollcall.dev';
const VERSION = 'v1alpha1';
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const PLURALS: Record<string, string> = { User: 'users', ConnectedSystem: 'connectedsystems', AccessRole: 'accessroles', AccessBinding: 'accessbindings' };

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace: string; labels?: Record<string, string> } };

export interface UserObject extends KubernetesObject {
  metadata: { name: string; generation?: number; resourceVersion?: string };
  status?: { observedGeneration?: number; systems?: string; conditions?: { type: string; status: string }[] };
}

export class Kube {
  readonly kubeconfigPath: string;
  readonly config: KubeConfig;
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;

  constructor(kubeconfigPath: string) {
    this.kubeconfigPath = kubeconfigPath;
    this.config = loadKubeConfig(kubeconfigPath);
    this.#custom = this.config.makeApiClient(CustomObjectsApi);
    this.#core = this.config.makeApiClient(CoreV1Api);
  }

  async createNamespace(name: string): Promise<void> {
    await this.#core.createNamespace({ body: { metadata: { name } } });
  }

  async create(object: Obj): Promise<void> {
    const { namespace } = object.metadata;
    if (object.kind === 'Secret') {
      await this.#core.createNamespacedSecret({ namespace, body: object as V1Secret });
      return;
    }
    await this.#custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURALS[object.kind]!, body: object });
  }

  /** Creates every object, `concurrency` requests in flight; returns when the first request started. */
  async createAll(objects: Obj[], concurrency: number): Promise<{ startedAt: number; doneAt: number }> {
    const startedAt = now();
    await eachLimit(objects, concurrency, (object) => this.create(object));
    return { startedAt, doneAt: now() };
  }

  async patch(kind: string, namespace: string, name: string, body: object): Promise<KubernetesObject> {
    return (await this.#custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: PLURALS[kind]!, name, body },
      MERGE_PATCH,
    )) as KubernetesObject;
  }

  async list(kind: string, namespace: string): Promise<(KubernetesObject & Record<string, unknown>)[]> {
    const list = (await this.#custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURALS[kind]! })) as {
      items: (KubernetesObject & Record<string, unknown>)[];
    };
    return list.items;
  }

  /** resourceVersion of every object of these kinds: a change means someone wrote it. */
  async resourceVersions(kinds: string[], namespace: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const kind of kinds) for (const item of await this.list(kind, namespace)) out.set(`${kind}/${item.metadata!.name}`, item.metadata!.resourceVersion!);
    return out;
  }

  /** Watches the namespace's Users; `isReady` decides per object. */
  watchUsers(namespace: string, isReady: (user: UserObject) => boolean): ReadinessWatch {
    return new ReadinessWatch(
      this.config,
      namespace,
      (ns) => this.#custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'users' }),
      isReady,
    );
  }

  /** apiserver_request_total summed by verb, resource and subresource (e.g. "GET secrets", "PUT users/status"). */
  requestCounts(): Map<string, number> {
    const text = execFileSync('kubectl', ['--kubeconfig', this.kubeconfigPath, 'get', '--raw', '/metrics'], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      const key = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
      out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
    return out;
  }
}

/** Difference of two request counters, only the keys that changed. */
export function requestDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (delta > 0) out[key] = delta;
  }
  return out;
}

/** When each User was first seen ready, from one informer's events. */
export class ReadinessWatch {
  /** name → performance.now() when first seen ready (cleared when seen not ready again). */
  readonly readyAt = new Map<string, number>();
  readonly #informer;
  readonly #waiters = new Set<() => void>();

  constructor(config: KubeConfig, namespace: string, list: (namespace: string) => Promise<unknown>, isReady: (user: UserObject) => boolean) {
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/users`;
    this.#informer = makeInformer<UserObject>(config, path, () => list(namespace) as never);
    const seen = (user: UserObject) => {
      const name = user.metadata.name;
      if (isReady(user)) {
        if (!this.readyAt.has(name)) this.readyAt.set(name, now());
      } else {
        this.readyAt.delete(name);
      }
      for (const waiter of this.#waiters) waiter();
    };
    this.#informer.on('add', seen);
    this.#informer.on('update', seen);
    this.#informer.on('error', () => setTimeout(() => void this.#informer.start().catch(() => undefined), 1000));
  }

  start(): Promise<void> {
    return this.#informer.start();
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  /** Resolves true once `done()` holds, false after timeoutMs. */
  async until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return true;
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        finish(true);
      };
      const finish = (result: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(result);
      };
      const timer = setTimeout(() => finish(done()), timeoutMs);
      this.#waiters.add(check);
    });
  }

  users(): readonly UserObject[] {
    return this.#informer.list();
  }
}
