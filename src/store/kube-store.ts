// The store on the Kubernetes API: one self-healing informer per kind for reads and watches,
// the status subresource for status, optimistic concurrency (resourceVersion) for every write.
import { systemClock, type Clock } from '../clock/clock.ts';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, KINDS, RetryableError, VERSION, type KindName, type User } from '../api/index.ts';
import { deepFreeze } from './deep-freeze.ts';
import { KindLists } from './kind-lists.ts';
import { WatchedInformer, type InformerHealth, type WatchdogOptions } from './kube-informer.ts';
import { InformerSet } from './kube-informer-set.ts';
import { readSecret, readSecretMetadata, statusCode } from './kube-read.ts';
import { listInPages } from './paged-list.ts';
import {
  AlreadyExistsError,
  WATCHED_KINDS,
  keyOf,
  keyString,
  type UserPatch,
  type WatchedKind,
  type AnyResource,
  type ConfigMapContent,
  type EventType,
  type ObjectKey,
  type OwnedSecret,
  type ResourceByKind,
  type SecretMetadata,
  type StatusWrite,
  type Store,
  type WatchEvent,
  type WatchHandler,
} from './store.ts';
import { KubeEvents } from './kube-events.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, withRequestTimeout } from './request-timeout.ts';
import { WatchHandlers } from './watch-handlers.ts';

export { loadKubeConfig } from './kube-config.ts';

export interface KubeStoreOptions {
  kubeconfig: KubeConfig;
  /** Watch only this namespace; all namespaces when neither this nor `namespaces` is given. */
  namespace?: string;
  /** Watch only these namespaces (one informer per kind and namespace). */
  namespaces?: readonly string[];
  logger: Logger;
  watchdog?: WatchdogOptions;
  /** Timestamps of Events (default: real time). */
  clock?: Clock;
  /** The deadline of each request to the API server (default DEFAULT_REQUEST_TIMEOUT_MS); a timed-out call is retryable. */
  requestTimeoutMs?: number;
}

const CONFLICT_ATTEMPTS = 5;
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

type Raw = KubernetesObject & Record<string, unknown>;

export class KubeStore implements Store {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;
  readonly #informers = new Map<KindName, InformerSet<Raw>>();
  readonly #handlers: WatchHandlers;
  /**
   * Parsed objects by the identity of the object they came from (a write's answer, a read) or of
   * themselves: each version is parsed once, and the informers' caches keep the parsed copy only.
   */
  readonly #parsed = new WeakMap<object, AnyResource | null>();
  /** list() results by "kind/namespace", kept in step with the watch events (KindLists). */
  readonly #lists = new KindLists();
  readonly #events: KubeEvents;

  constructor(options: KubeStoreOptions) {
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#handlers = new WatchHandlers(options.logger);
    // Every call has a deadline, the informers' listings too: a hung one fails and is retried.
    const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#custom = withRequestTimeout(options.kubeconfig.makeApiClient(CustomObjectsApi), timeoutMs);
    this.#core = withRequestTimeout(options.kubeconfig.makeApiClient(CoreV1Api), timeoutMs);
    this.#events = new KubeEvents(this.#core, this.#clock, this.#logger);
    const namespaces = [...new Set([...(options.namespaces ?? []), ...(options.namespace ? [options.namespace] : [])])];
    for (const kind of WATCHED_KINDS) {
      const plural = KINDS[kind].plural;
      const byNamespace = new Map<string | undefined, WatchedInformer<Raw>>();
      for (const namespace of namespaces.length ? namespaces : [undefined]) {
        const path = namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}` : `/apis/${GROUP}/${VERSION}/${plural}`;
        const list = (): Promise<KubernetesListObject<Raw>> =>
          listInPages((limit, _continue) =>
            namespace
              ? this.#custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, limit, _continue })
              : this.#custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: plural, limit, _continue }),
          );
        byNamespace.set(
          namespace,
          new WatchedInformer<Raw>(
            namespaces.length > 1 ? `${kind} in ${namespace}` : kind,
            options.kubeconfig,
            path,
            list,
            options.logger,
            options.watchdog,
            (raw) => (this.#parse(kind, raw) as Raw | undefined) ?? raw,
          ),
        );
      }
      const informers = new InformerSet(byNamespace);
      for (const event of ['add', 'update', 'delete'] as const) {
        informers.on(event, (raw) => this.#dispatch(kind, event, raw));
      }
      this.#informers.set(kind, informers);
    }
  }

  async start(): Promise<void> {
    try {
      await Promise.all(WATCHED_KINDS.map((kind) => this.#informers.get(kind)!.start()));
    } catch (error) {
      await this.stop();
      throw new Error(`cannot list Rollcall resources (are the CRDs installed, by the chart or from crds/, and may Rollcall list them?): ${errorText(error)}`, {
        cause: error,
      });
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((informer) => informer.stop()));
    await this.#events.close();
  }

  /** Restart counts and last activity per kind, for /readyz and metrics. */
  watchHealth(): Record<WatchedKind, InformerHealth> {
    return Object.fromEntries(WATCHED_KINDS.map((kind) => [kind, this.#informers.get(kind)!.health()])) as Record<WatchedKind, InformerHealth>;
  }

  /** Each watch that no longer follows the cluster, and why: for /healthz. */
  watchProblems(): string[] {
    return Object.entries(this.watchHealth()).flatMap(([kind, health]) => (health.dead ? [`watch of ${kind}: ${health.dead}`] : []));
  }

  /** The informers of one kind, so tests and diagnostics can restart them. */
  informer(kind: KindName): InformerSet<KubernetesObject> {
    return this.#informer(kind);
  }

  #informer(kind: KindName): InformerSet<Raw> {
    const informer = this.#informers.get(kind);
    if (!informer) throw new Error(`${kind} is not watched: no controller reads it (see WATCHED_KINDS)`);
    return informer;
  }

  list<K extends KindName>(kind: K, namespace?: string): readonly ResourceByKind[K][] {
    // Kept in step with the watch events, as MemoryStore keeps its lists (KindLists): a fresh array
    // of 10,000 Users per read was garbage the heap grew for. Marked unchanging, typed readonly.
    return this.#lists.list(kind, namespace, () => {
      const out: AnyResource[] = [];
      for (const raw of this.#informer(kind).list(namespace)) {
        const parsed = this.#parse(kind, raw);
        if (parsed) out.push(parsed);
      }
      return out;
    }) as readonly ResourceByKind[K][];
  }

  get<K extends KindName>(kind: K, key: ObjectKey): ResourceByKind[K] | undefined {
    const raw = this.#informer(kind).get(key.name, key.namespace);
    return raw ? this.#parse(kind, raw) : undefined;
  }

  watch<K extends KindName>(kind: K, handler: WatchHandler<K>): () => void {
    return this.#handlers.add(kind, handler);
  }

  async create<K extends KindName>(kind: K, object: ResourceByKind[K]): Promise<ResourceByKind[K] | undefined> {
    const key = { namespace: object.metadata.namespace ?? 'default', name: object.metadata.name };
    const { metadata, spec } = object;
    const body = {
      apiVersion: object.apiVersion,
      kind,
      metadata: { name: metadata.name, namespace: key.namespace, labels: metadata.labels, annotations: metadata.annotations },
      spec,
    };
    try {
      const { name: _name, ...target } = this.#target(kind, key);
      return this.#parse(kind, (await this.#custom.createNamespacedCustomObject({ ...target, body })) as Raw);
    } catch (error) {
      if (statusCode(error) !== 409) throw error;
      const existing = await this.#read(kind, key);
      return existing && this.#parse(kind, existing);
    }
  }

  async updateStatus<K extends KindName>(
    kind: K,
    key: ObjectKey,
    status: StatusWrite<NonNullable<ResourceByKind[K]['status']>>,
  ): Promise<ResourceByKind[K] | undefined> {
    let current = this.#informer(kind).get(key.name, key.namespace) ?? (await this.#read(kind, key));
    for (let attempt = 1; current && attempt <= CONFLICT_ATTEMPTS; attempt++) {
      const body = { ...current, status: typeof status === 'function' ? status(this.#parse(kind, current)?.status ?? undefined) : status };
      try {
        const stored = await this.#custom.replaceNamespacedCustomObjectStatus({ ...this.#target(kind, key), body });
        return this.#parse(kind, stored as Raw);
      } catch (error) {
        if (statusCode(error) === 404) return undefined;
        if (statusCode(error) !== 409) throw error;
        // Someone else wrote the object since our cache saw it; only the controller writes status, so ours wins.
        this.#logger.debug({ kind, object: keyString(key), attempt }, 'status write conflicted; re-reading');
        current = await this.#read(kind, key);
      }
    }
    if (!current) return undefined;
    throw new RetryableError(`status of ${kind} ${keyString(key)} kept conflicting after ${CONFLICT_ATTEMPTS} attempts`);
  }

  async setFinalizer<K extends KindName>(kind: K, key: ObjectKey, finalizer: string, present: boolean): Promise<ResourceByKind[K] | undefined> {
    let current = this.#informer(kind).get(key.name, key.namespace) ?? (await this.#read(kind, key));
    for (let attempt = 1; current && attempt <= CONFLICT_ATTEMPTS; attempt++) {
      const finalizers = current.metadata?.finalizers ?? [];
      if (finalizers.includes(finalizer) === present) return this.#parse(kind, current);
      const next = present ? [...finalizers, finalizer] : finalizers.filter((f) => f !== finalizer);
      try {
        // resourceVersion in the patch makes it conditional: 409 if the list changed under us.
        const body = { metadata: { finalizers: next, resourceVersion: current.metadata?.resourceVersion } };
        const stored = (await this.#custom.patchNamespacedCustomObject({ ...this.#target(kind, key), body }, MERGE_PATCH)) as Raw;
        // The last finalizer of a deleted object: the API server removes it now.
        if (next.length === 0 && stored.metadata?.deletionTimestamp) return undefined;
        return this.#parse(kind, stored);
      } catch (error) {
        if (statusCode(error) === 404) return undefined;
        if (statusCode(error) !== 409) throw error;
        current = await this.#read(kind, key);
      }
    }
    if (!current) return undefined;
    throw new RetryableError(`finalizers of ${kind} ${keyString(key)} kept conflicting after ${CONFLICT_ATTEMPTS} attempts`);
  }

  async setAnnotations<K extends KindName>(kind: K, key: ObjectKey, annotations: Record<string, string | null>): Promise<void> {
    try {
      // In a merge patch, null removes the key.
      await this.#custom.patchNamespacedCustomObject({ ...this.#target(kind, key), body: { metadata: { annotations } } }, MERGE_PATCH);
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
    }
  }

  async createUser(user: User): Promise<User> {
    const key = keyOf(user);
    const { status: _, ...body } = user;
    try {
      const stored = (await this.#custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: KINDS.User.plural,
        namespace: key.namespace,
        body,
      })) as Raw;
      const parsed = this.#parse('User', stored);
      if (!parsed) throw new Error(`the API server returned a User ${keyString(key)} that does not match the schema`);
      return parsed;
    } catch (error) {
      if (statusCode(error) === 409) throw new AlreadyExistsError(`User ${keyString(key)} already exists`, { cause: error });
      throw error;
    }
  }

  async patchUser(key: ObjectKey, patch: UserPatch, resourceVersion?: string): Promise<User | undefined> {
    const metadata: Record<string, unknown> = {};
    if (patch.labels) metadata.labels = patch.labels;
    if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
    const body: Record<string, unknown> = { metadata };
    if (patch.spec) body.spec = patch.spec;
    try {
      const stored = (await this.#custom.patchNamespacedCustomObject({ ...this.#target('User', key), body }, MERGE_PATCH)) as Raw;
      return this.#parse('User', stored);
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      if (statusCode(error) === 409) throw new RetryableError(`User ${keyString(key)} changed since it was read`, { cause: error });
      throw error;
    }
  }

  async getSecret(key: ObjectKey): Promise<Record<string, string> | undefined> {
    return readSecret(this.#core, key);
  }

  async getSecretMetadata(key: ObjectKey): Promise<SecretMetadata | undefined> {
    return readSecretMetadata(this.#core, key);
  }

  async getOwnedSecret(key: ObjectKey): Promise<OwnedSecret | undefined> {
    try {
      const { metadata, data } = await this.#core.readNamespacedSecret(key);
      const owner = metadata?.ownerReferences?.find((reference) => reference.controller) ?? metadata?.ownerReferences?.[0];
      if (!owner) return undefined;
      return {
        key,
        labels: metadata?.labels ?? {},
        annotations: metadata?.annotations ?? {},
        data: Object.fromEntries(Object.entries(data ?? {}).map(([name, value]) => [name, Buffer.from(value, 'base64').toString('utf8')])),
        owner: { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid },
      };
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  async createOwnedSecret(secret: OwnedSecret): Promise<void> {
    const { key, labels, annotations, data, owner } = secret;
    const body = {
      metadata: { name: key.name, namespace: key.namespace, labels, annotations, ownerReferences: [{ ...owner, controller: true }] },
      type: 'Opaque',
      // data, not stringData: the value the person reads back is exactly the one written.
      data: Object.fromEntries(Object.entries(data).map(([name, value]) => [name, Buffer.from(value, 'utf8').toString('base64')])),
    };
    try {
      await this.#core.createNamespacedSecret({ namespace: key.namespace, body });
    } catch (error) {
      if (statusCode(error) === 409) throw new AlreadyExistsError(`Secret ${keyString(key)} already exists`, { cause: error });
      throw error;
    }
  }

  async deleteSecret(key: ObjectKey): Promise<void> {
    try {
      await this.#core.deleteNamespacedSecret(key);
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
    }
  }

  async getConfigMap(key: ObjectKey): Promise<ConfigMapContent | undefined> {
    try {
      const configMap = await this.#core.readNamespacedConfigMap(key);
      return { labels: configMap.metadata?.labels ?? {}, data: configMap.data ?? {} };
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  /** Correlated and written after (kube-events.ts): resolves once decided, not once written. */
  async recordEvent(kind: KindName, object: AnyResource, type: EventType, reason: string, message: string): Promise<void> {
    await this.#events.record(kind, object, type, reason, message);
  }

  /** Resolves once every Event recorded so far is written (or kept for a retry). */
  async eventsWritten(): Promise<void> {
    await this.#events.flushed();
  }

  #target(kind: KindName, key: ObjectKey) {
    return { group: GROUP, version: VERSION, plural: KINDS[kind].plural, namespace: key.namespace, name: key.name };
  }

  async #read(kind: KindName, key: ObjectKey): Promise<Raw | undefined> {
    try {
      return (await this.#custom.getNamespacedCustomObject(this.#target(kind, key))) as Raw;
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  #parse<K extends KindName>(kind: K, raw: Raw): ResourceByKind[K] | undefined {
    const cached = this.#parsed.get(raw);
    if (cached !== undefined) return (cached ?? undefined) as ResourceByKind[K] | undefined;
    // The informer's copy need not keep managedFields (kilobytes per object, read by no one): a
    // status PUT without them leaves the server's as they are.
    delete (raw.metadata as { managedFields?: unknown } | undefined)?.managedFields;
    const result = KINDS[kind].resource.safeParse(raw);
    if (!result.success) {
      // The CRD schema makes this rare (an object from an older schema version): skip it, say why, once per version.
      const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
      this.#logger.warn({ kind, object: `${raw.metadata?.namespace}/${raw.metadata?.name}`, problems }, 'ignoring an object that does not match the schema');
    }
    const parsed = result.success ? deepFreeze(result.data as AnyResource) : null;
    this.#parsed.set(raw, parsed);
    // The informer keeps the parsed copy in place of the raw one (WatchedInformer's prepare): found again as itself.
    if (parsed) this.#parsed.set(parsed, parsed);
    return (parsed ?? undefined) as ResourceByKind[K] | undefined;
  }

  #dispatch(kind: KindName, event: WatchEvent, raw: Raw): void {
    // The informer's cache changed just before: the kind's lists follow (an object that no longer
    // parses leaves them, so they are built afresh).
    const object = this.#parse(kind, raw);
    if (event === 'delete' || !object) this.#lists.removed(kind);
    else this.#lists.put(kind, object);
    if (!object) return;
    this.#handlers.dispatch(kind, event, object);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
