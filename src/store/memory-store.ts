// The store for `rollcall run --manifests DIR` and for tests: objects kept in memory, behaving like
// the API server as far as controllers can tell (generation, resourceVersion, status subresource,
// finalizers and deletionTimestamp, watch events), so a controller that works here works against a
// cluster. What feeds it lives elsewhere: the manifest files (manifests/directory.ts) and the state
// a previous run left (state-file.ts).
import { systemClock, type Clock } from '../clock/clock.ts';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { KINDS, KIND_NAMES, RetryableError, type KindName, type User } from '../api/index.ts';
import { deepFreeze } from './deep-freeze.ts';
import { KindLists } from './kind-lists.ts';
import { ApplyRefusedError } from '../manifests/errors.ts';
import type { LoadedObject } from '../manifests/load.ts';
import { ruleViolations, transitionViolations } from '../manifests/rules.ts';
import {
  AlreadyExistsError,
  keyOf,
  keyString,
  type AnyResource,
  type ConfigMapContent,
  type UserPatch,
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
import { OwnedSecrets } from './owned-secrets.ts';
import { WatchHandlers } from './watch-handlers.ts';

export interface MemoryStoreOptions {
  logger: Logger;
  /** creationTimestamp and deletionTimestamp (default: real time). */
  clock?: Clock;
  /**
   * Where a Secret the manifests do not hold is read from: `rollcall plan` over a cluster reads the
   * cluster's, so credentials need not be copied into the directory. A Secret in the manifests wins.
   */
  fallbackSecrets?: Pick<Store, 'getSecret' | 'getSecretMetadata'>;
  /**
   * A finalizer every User the manifests newly declare (or an identity source creates) gets at
   * once (`rollcall run --manifests`).
   * Write-ahead in bulk: a batch of joiners is marked "Rollcall may create an account for this
   * User" in the store together, so one state-file write makes all of them durable before the
   * controllers create the first account, instead of one write per User (the controller would add
   * the same finalizer itself, one User at a time).
   */
  claimDeclaredUsers?: string;
  /**
   * Where the Secrets Rollcall writes for people (a joiner's first password) are kept, one 0600 file
   * each (owned-secrets.ts); in memory when absent.
   */
  ownedSecretsDirectory?: string;
}

/**
 * One object as the store holds it, with the annotations its manifest last set (what kubectl keeps
 * as last-applied), so that a later apply removes only those: what a state file keeps.
 */
export interface StoredObject {
  object: AnyResource;
  appliedAnnotations: Record<string, string>;
}

/** A resource as written in a manifest: defaults may be left out, the store applies them. */
export type ResourceInput = { [K in KindName]: z.input<(typeof KINDS)[K]['resource']> }[KindName];

export class MemoryStore implements Store {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #fallbackSecrets: Pick<Store, 'getSecret' | 'getSecretMetadata'> | undefined;
  readonly #claimDeclaredUsers: string | undefined;
  readonly #objects = new Map<KindName, Map<string, AnyResource>>(KIND_NAMES.map((kind) => [kind, new Map()]));
  readonly #lists = new KindLists();
  readonly #handlers: WatchHandlers;
  /**
   * Annotations each object last got from its manifest (kubectl's last-applied), so an apply
   * changes only what the manifest changed: removed from the file, removed; never set by the file, kept.
   */
  readonly #appliedAnnotations = new Map<string, Record<string, string>>();
  #secrets = new Map<string, Record<string, string>>();
  #secretMetadata = new Map<string, SecretMetadata>();
  #configMaps = new Map<string, ConfigMapContent>();
  readonly #ownedSecrets: OwnedSecrets;
  #resourceVersion = 0;
  #started = false;
  /** Makes every write so far durable (the state file's flush), when something keeps this store. */
  #persist: (() => Promise<void>) | undefined;

  /** RFC 3339 with seconds, as the API server writes timestamps. */
  #kubeNow(): string {
    return this.#clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  constructor(objects: ReadonlyArray<LoadedObject | ResourceInput>, options: MemoryStoreOptions) {
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#fallbackSecrets = options.fallbackSecrets;
    this.#claimDeclaredUsers = options.claimDeclaredUsers;
    this.#handlers = new WatchHandlers(options.logger);
    this.#ownedSecrets = new OwnedSecrets(options.ownedSecretsDirectory);
    for (const object of objects) {
      if (object.kind === 'Secret') this.#setSecret(object);
      else if (object.kind === 'ConfigMap') this.#configMaps.set(keyString(keyOf(object)), { labels: { ...object.metadata.labels }, data: { ...object.data } });
      else this.#create(object.kind, parseResource(object as AnyResource));
    }
  }

  /**
   * A store that holds what a previous run left (uid, creationTimestamp, generation, status,
   * finalizers, deletionTimestamp) before any manifest is applied to it.
   */
  static restore(stored: readonly StoredObject[], options: MemoryStoreOptions): MemoryStore {
    // The API server would already have removed a deleted object that nothing holds.
    const kept = stored.filter(({ object }) => object.metadata.deletionTimestamp === undefined || (object.metadata.finalizers ?? []).length > 0);
    const store = new MemoryStore(
      kept.map(({ object }) => object),
      options,
    );
    for (const { object, appliedAnnotations } of kept) store.#appliedAnnotations.set(idOf(object.kind, object), { ...appliedAnnotations });
    return store;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    // Like an informer's first listing: handlers registered before start hear about every object.
    for (const kind of KIND_NAMES) for (const object of this.#objects.get(kind)!.values()) this.#emit(kind, 'add', object);
  }

  async stop(): Promise<void> {
    this.#started = false;
  }

  list<K extends KindName>(kind: K, namespace?: string): readonly ResourceByKind[K][] {
    // Handed out as kept (KindLists), marked unchanging and typed readonly: a copy per call was most
    // of what a 10,000-User run allocated.
    return this.#lists.list(kind, namespace, () => {
      const matching: AnyResource[] = [];
      for (const object of this.#objects.get(kind)!.values()) if (namespace === undefined || object.metadata.namespace === namespace) matching.push(object);
      return matching;
    }) as readonly ResourceByKind[K][];
  }

  get<K extends KindName>(kind: K, key: ObjectKey): ResourceByKind[K] | undefined {
    return this.#objects.get(kind)!.get(keyString(key)) as ResourceByKind[K] | undefined;
  }

  watch<K extends KindName>(kind: K, handler: WatchHandler<K>): () => void {
    return this.#handlers.add(kind, handler);
  }

  async create<K extends KindName>(kind: K, object: ResourceByKind[K]): Promise<ResourceByKind[K] | undefined> {
    const existing = this.get(kind, keyOf(object));
    if (existing) return existing;
    this.#create(
      kind,
      parseResource({
        ...object,
        metadata: {
          name: object.metadata.name,
          namespace: object.metadata.namespace,
          labels: object.metadata.labels,
          annotations: object.metadata.annotations,
        },
      } as AnyResource),
    );
    return this.get(kind, keyOf(object));
  }

  async updateStatus<K extends KindName>(
    kind: K,
    key: ObjectKey,
    status: StatusWrite<NonNullable<ResourceByKind[K]['status']>>,
  ): Promise<ResourceByKind[K] | undefined> {
    const current = this.get(kind, key);
    if (!current) return undefined;
    // The API server validates status against the CRD schema too; a bad status is a controller bug.
    const parsed = KINDS[kind].status.safeParse(typeof status === 'function' ? status(current.status ?? undefined) : status);
    if (!parsed.success) {
      throw new Error(`invalid status for ${kind} ${keyString(key)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    if (isDeepStrictEqual(current.status, parsed.data)) return current;
    return this.#replace(kind, { ...current, status: parsed.data } as ResourceByKind[K]);
  }

  async setFinalizer<K extends KindName>(kind: K, key: ObjectKey, finalizer: string, present: boolean): Promise<ResourceByKind[K] | undefined> {
    const current = this.get(kind, key);
    if (!current) return undefined;
    const finalizers = current.metadata.finalizers ?? [];
    if (finalizers.includes(finalizer) === present) return current;
    const next = present ? [...finalizers, finalizer] : finalizers.filter((f) => f !== finalizer);
    // As on the API server: a deleted object goes once its last finalizer does.
    if (next.length === 0 && current.metadata.deletionTimestamp !== undefined) {
      this.#remove(kind, current);
      return undefined;
    }
    if (current.metadata.deletionTimestamp !== undefined && present) {
      throw new Error(`${kind} ${keyString(key)} is being deleted: no new finalizers may be added`);
    }
    return this.#replace(kind, { ...current, metadata: { ...current.metadata, finalizers: next } });
  }

  async setAnnotations<K extends KindName>(kind: K, key: ObjectKey, annotations: Record<string, string | null>): Promise<void> {
    const current = this.get(kind, key);
    if (!current) return;
    const next = mergeAnnotations(current.metadata.annotations, annotations);
    if (isDeepStrictEqual(next, current.metadata.annotations ?? {})) return;
    this.#replace(kind, { ...current, metadata: { ...current.metadata, annotations: next } });
  }

  async createUser(user: User): Promise<User> {
    const key = keyOf(user);
    if (this.get('User', key)) throw new AlreadyExistsError(`User ${keyString(key)} already exists`);
    const parsed = validUser(parseResource({ ...user, status: undefined } as AnyResource) as User);
    this.#create('User', this.#claimed(parsed));
    return this.get('User', key)!;
  }

  async patchUser(key: ObjectKey, patch: UserPatch, resourceVersion?: string): Promise<User | undefined> {
    const current = this.get('User', key);
    if (!current) return undefined;
    if (resourceVersion !== undefined && current.metadata.resourceVersion !== resourceVersion) {
      throw new RetryableError(`User ${keyString(key)} changed since it was read (resourceVersion ${resourceVersion})`);
    }
    const spec = mergePatch(current.spec, patch.spec ?? {}) as User['spec'];
    const labels = mergePatch(current.metadata.labels ?? {}, patch.labels ?? {}) as Record<string, string>;
    const specChanged = !isDeepStrictEqual(spec, current.spec);
    if (!specChanged && isDeepStrictEqual(labels, current.metadata.labels ?? {})) return current;
    const next = validUser(parseResource({ ...current, spec, metadata: { ...current.metadata, labels } } as AnyResource) as User);
    for (const v of transitionViolations('User', current, next)) throw new Error(`User ${keyString(key)}: ${v.field}: ${v.message}`);
    const generation = (current.metadata.generation ?? 1) + (specChanged ? 1 : 0);
    return this.#replace('User', { ...next, metadata: { ...next.metadata, generation } });
  }

  async getSecret(key: ObjectKey): Promise<Record<string, string> | undefined> {
    const data = this.#secrets.get(keyString(key));
    if (data === undefined) return this.#fallbackSecrets?.getSecret(key);
    return { ...data };
  }

  async getSecretMetadata(key: ObjectKey): Promise<SecretMetadata | undefined> {
    const metadata = this.#secretMetadata.get(keyString(key));
    if (metadata === undefined) return this.#fallbackSecrets?.getSecretMetadata(key);
    return { labels: { ...metadata.labels }, annotations: { ...metadata.annotations } };
  }

  #setSecret(object: {
    metadata: { namespace?: string; name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    data?: Record<string, string>;
  }): void {
    this.#secrets.set(keyString(keyOf(object)), { ...object.data });
    this.#secretMetadata.set(keyString(keyOf(object)), { labels: { ...object.metadata.labels }, annotations: { ...object.metadata.annotations } });
  }

  async getOwnedSecret(key: ObjectKey): Promise<OwnedSecret | undefined> {
    return this.#ownedSecrets.get(key);
  }

  async createOwnedSecret(secret: OwnedSecret): Promise<void> {
    if (this.#secrets.has(keyString(secret.key))) throw new AlreadyExistsError(`Secret ${keyString(secret.key)} already exists`);
    this.#ownedSecrets.create(secret);
  }

  async deleteSecret(key: ObjectKey): Promise<void> {
    this.#ownedSecrets.delete(key);
  }

  async getConfigMap(key: ObjectKey): Promise<ConfigMapContent | undefined> {
    const content = this.#configMaps.get(keyString(key));
    return content === undefined ? undefined : { labels: { ...content.labels }, data: { ...content.data } };
  }

  async recordEvent(kind: KindName, object: AnyResource, type: EventType, reason: string, message: string): Promise<void> {
    const fields = { event: { kind, namespace: object.metadata.namespace ?? 'default', name: object.metadata.name, type, reason } };
    if (type === 'Warning') this.#logger.warn(fields, message);
    else this.#logger.info(fields, message);
  }

  /** What durable() waits for: the state file's flush in `rollcall run --manifests DIR`. */
  persistWith(persist: () => Promise<void>): void {
    this.#persist = persist;
  }

  async durable(): Promise<void> {
    await this.#persist?.();
  }

  /** Every object with the annotations its manifest last set, for a state file; not Secrets or ConfigMaps. */
  snapshot(): StoredObject[] {
    const stored: StoredObject[] = [];
    for (const kind of KIND_NAMES) {
      for (const object of this.#objects.get(kind)!.values()) {
        const { resourceVersion: _, ...metadata } = object.metadata;
        stored.push({ object: { ...object, metadata } as AnyResource, appliedAnnotations: { ...this.#appliedAnnotations.get(idOf(kind, object)) } });
      }
    }
    return stored;
  }

  /**
   * Makes the store hold exactly `objects`, like `kubectl apply --prune` of a whole directory:
   * creates what is new, updates spec, labels and annotations of what changed (status, finalizers
   * and the rest of metadata stay the controller's), and deletes what is no longer declared.
   * All or nothing: a change the API server would refuse (an immutable field) throws
   * ApplyRefusedError before anything is applied. Secrets and ConfigMaps are replaced whole.
   * What `keep` names is not deleted when undeclared: its manifest is invalid, not gone.
   */
  applyDeclared(objects: readonly LoadedObject[], keep: (kind: string, key: ObjectKey) => boolean = () => false): void {
    const problems: string[] = [];
    const refused: string[] = [];
    for (const object of objects) {
      if (object.kind === 'Secret' || object.kind === 'ConfigMap') continue;
      const current = this.get(object.kind, keyOf(object));
      if (!current) continue;
      const violations = transitionViolations(object.kind, current, object);
      for (const v of violations) problems.push(`${object.kind} "${object.metadata.name}": ${v.field}: ${v.message}`);
      if (violations.length) refused.push(idOf(object.kind, object));
    }
    if (problems.length > 0) throw new ApplyRefusedError(problems, refused);

    // A Secret or ConfigMap not declared now but kept (its manifest is invalid) keeps its data.
    const carried = <T>(previous: Map<string, T>, kind: string): Map<string, T> =>
      new Map([...previous].filter(([key]) => keep(kind, { namespace: key.split('/')[0]!, name: key.split('/').slice(1).join('/') })));
    this.#secrets = carried(this.#secrets, 'Secret');
    this.#secretMetadata = carried(this.#secretMetadata, 'Secret');
    this.#configMaps = carried(this.#configMaps, 'ConfigMap');
    const seen = new Set<string>();
    for (const object of objects) {
      if (object.kind === 'Secret') this.#setSecret(object);
      else if (object.kind === 'ConfigMap') this.#configMaps.set(keyString(keyOf(object)), { labels: { ...object.metadata.labels }, data: { ...object.data } });
      else {
        seen.add(idOf(object.kind, object));
        this.#apply(object.kind, object);
      }
    }
    for (const kind of KIND_NAMES) {
      for (const object of [...this.#objects.get(kind)!.values()]) {
        // Users an identity source created are not declared in files: the source, not the directory, owns them.
        if (seen.has(idOf(kind, object)) || object.metadata.labels?.['rollcall.dev/source'] !== undefined) continue;
        // Kept: its manifest is there but invalid now; a typo must not read as a deletion.
        if (!keep(kind, keyOf(object))) this.#delete(kind, object);
      }
    }
  }

  #apply(kind: KindName, incoming: AnyResource): void {
    const id = idOf(kind, incoming);
    const current = this.get(kind, keyOf(incoming));
    if (!current) {
      this.#create(kind, kind === 'User' ? this.#claimed(incoming as User) : incoming);
      return;
    }
    // Only what the manifest changed since it was last applied: an annotation the controller
    // removed (a spent approval) does not come back each time the files are read again.
    const previous = this.#appliedAnnotations.get(id) ?? {};
    const declared = incoming.metadata.annotations ?? {};
    const changes: Record<string, string | null> = {};
    for (const key of Object.keys(previous)) if (!(key in declared)) changes[key] = null;
    for (const [key, value] of Object.entries(declared)) if (previous[key] !== value) changes[key] = value;
    const annotations = mergeAnnotations(current.metadata.annotations, changes);
    this.#appliedAnnotations.set(id, { ...declared });
    const specChanged = !isDeepStrictEqual(current.spec, incoming.spec);
    const labels = incoming.metadata.labels ?? {};
    if (!specChanged && isDeepStrictEqual(labels, current.metadata.labels ?? {}) && isDeepStrictEqual(annotations, current.metadata.annotations ?? {})) return;
    const generation = (current.metadata.generation ?? 1) + (specChanged ? 1 : 0);
    this.#replace(kind, { ...current, spec: incoming.spec, metadata: { ...current.metadata, labels, annotations, generation } } as AnyResource);
  }

  /** No longer declared: like `kubectl delete`, finalizers hold the object with a deletionTimestamp. */
  #delete(kind: KindName, object: AnyResource): void {
    if (object.metadata.deletionTimestamp !== undefined) return;
    if ((object.metadata.finalizers ?? []).length === 0) {
      this.#remove(kind, object);
      return;
    }
    // The API server bumps generation when deletion starts: the controller's behaviour must change.
    const metadata = {
      ...object.metadata,
      deletionTimestamp: this.#kubeNow(),
      deletionGracePeriodSeconds: 0,
      generation: (object.metadata.generation ?? 1) + 1,
    };
    this.#replace(kind, { ...object, metadata } as AnyResource);
  }

  #create(kind: KindName, object: AnyResource): void {
    const metadata = {
      ...object.metadata,
      namespace: object.metadata.namespace ?? 'default',
      uid: object.metadata.uid ?? randomUUID(),
      creationTimestamp: object.metadata.creationTimestamp ?? this.#kubeNow(),
      generation: object.metadata.generation ?? 1,
    };
    const stored = this.#store(kind, { ...object, metadata } as AnyResource);
    this.#appliedAnnotations.set(idOf(kind, stored), { ...(object.metadata.annotations ?? {}) });
    this.#emit(kind, 'add', stored);
  }

  /** A new User with the claim finalizer, when this store claims Users (claimDeclaredUsers). */
  #claimed(user: User): User {
    const claim = this.#claimDeclaredUsers;
    if (claim === undefined || user.metadata.finalizers?.includes(claim)) return user;
    return { ...user, metadata: { ...user.metadata, finalizers: [...(user.metadata.finalizers ?? []), claim] } };
  }

  #replace<K extends KindName>(kind: K, object: ResourceByKind[K]): ResourceByKind[K] {
    const stored = this.#store(kind, object);
    this.#emit(kind, 'update', stored);
    return stored as ResourceByKind[K];
  }

  #remove(kind: KindName, object: AnyResource): void {
    const key = keyString(keyOf(object));
    this.#objects.get(kind)!.delete(key);
    this.#lists.removed(kind);
    this.#appliedAnnotations.delete(idOf(kind, object));
    // As Kubernetes' garbage collector: what the object owned goes with it.
    if (object.metadata.uid) for (const owned of this.#ownedSecrets.ownedBy(keyOf(object).namespace, object.metadata.uid)) this.#ownedSecrets.delete(owned);
    this.#emit(kind, 'delete', object);
  }

  /** Every write gets a new resourceVersion; stored objects are frozen so a caller cannot change the cache by accident. */
  #store(kind: KindName, object: AnyResource): AnyResource {
    const copy = structuredClone(object);
    copy.metadata.resourceVersion = String(++this.#resourceVersion);
    const stored = deepFreeze(copy);
    this.#objects.get(kind)!.set(keyString(keyOf(stored)), stored);
    this.#lists.put(kind, stored);
    return stored;
  }

  #emit(kind: KindName, event: WatchEvent, object: AnyResource): void {
    if (!this.#started) return;
    // Delivered after the write returns, as a watch would: a handler never runs inside a write.
    queueMicrotask(() => {
      this.#handlers.dispatch(kind, event, object);
    });
  }
}

function idOf(kind: KindName, object: AnyResource): string {
  return `${kind}/${keyString(keyOf(object))}`;
}

/** Objects given to the constructor get the defaults the API server would apply. */
function parseResource(object: AnyResource): AnyResource {
  const result = KINDS[object.kind].resource.safeParse(object);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid ${object.kind} ${object.metadata?.namespace ?? 'default'}/${object.metadata?.name}: ${problems}`);
  }
  return result.data as AnyResource;
}

/** What the API server's CEL rules refuse, refused here too. */
function validUser(user: User): User {
  const violations = ruleViolations('User', user);
  if (violations.length > 0) throw new Error(`User ${keyString(keyOf(user))}: ${violations.map((v) => `${v.field}: ${v.message}`).join('; ')}`);
  return user;
}

/** RFC 7386: null removes a key, an object merges into an object, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    // Defined, not assigned, and read only when own: a "__proto__" key is a key, not the prototype.
    else if (value !== undefined)
      Object.defineProperty(out, key, {
        value: mergePatch(Object.hasOwn(out, key) ? out[key] : undefined, value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return out;
}

function mergeAnnotations(current: Record<string, string> | undefined, changes: Record<string, string | null>): Record<string, string> {
  const next = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}
