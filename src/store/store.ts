// The store behind the controllers: the Kubernetes API in production (kube-store.ts), or an
// in-memory store fed from manifest files (memory-store.ts) for `rollcall run --manifests DIR`.
import type { KindName, User } from '../api/index.ts';
import type { AnyResource, ObjectKey, ResourceByKind, UserPatch } from '../api/objects.ts';

// The object words live in api/ (every layer names objects); the store hands them on to its users.
export { keyOf, keyString, type AnyResource, type ObjectKey, type ResourceByKind, type UserPatch } from '../api/objects.ts';

/** The kinds a controller reads: a store against a cluster watches only these. */
export const WATCHED_KINDS = [
  'ConnectedSystem',
  'User',
  'AccessRole',
  'AccessBinding',
  'IdentitySource',
  'AccessReview',
] as const satisfies readonly KindName[];
export type WatchedKind = (typeof WATCHED_KINDS)[number];

export type WatchEvent = 'add' | 'update' | 'delete';
/** `old`: the object as the previous event delivered it (undefined for an add), so a handler can tell what changed. */
export type WatchHandler<K extends KindName> = (event: WatchEvent, object: ResourceByKind[K], old: ResourceByKind[K] | undefined) => void;

export type EventType = 'Normal' | 'Warning';

/**
 * A status to write, or how to make it from the freshest status stored (undefined: none yet). The
 * function form is applied again to the object read after a conflict, so what another pass wrote
 * meanwhile (one this pass's cache had not seen) can be carried over rather than overwritten.
 */
export type StatusWrite<S> = S | ((latest: S | undefined) => S);

/** create() found the name taken. */
export class AlreadyExistsError extends Error {}

export interface ConfigMapContent {
  labels: Record<string, string>;
  data: Record<string, string>;
}

export interface Store {
  /** Loads every kind and starts watching; resolves once the caches hold a full first listing. */
  start(): Promise<void>;
  stop(): Promise<void>;

  /** Reads come from the cache: cheap, synchronous, possibly a moment behind. */
  list<K extends KindName>(kind: K, namespace?: string): readonly ResourceByKind[K][];
  get<K extends KindName>(kind: K, key: ObjectKey): ResourceByKind[K] | undefined;
  /** Called for every change seen after start(), with the object before it; returns an unsubscribe function. */
  watch<K extends KindName>(kind: K, handler: WatchHandler<K>): () => void;

  /**
   * Replaces the status subresource. Retries on 409 Conflict by re-reading the object, because
   * only the controller writes status. Returns the stored object.
   */
  updateStatus<K extends KindName>(
    kind: K,
    key: ObjectKey,
    status: StatusWrite<NonNullable<ResourceByKind[K]['status']>>,
  ): Promise<ResourceByKind[K] | undefined>;
  /** Adds or removes a finalizer (idempotent); returns the stored object, or undefined once it is gone. */
  setFinalizer<K extends KindName>(kind: K, key: ObjectKey, finalizer: string, present: boolean): Promise<ResourceByKind[K] | undefined>;
  /** Creates the object (spec, labels, annotations); one that already exists is left as it is and returned. */
  create<K extends KindName>(kind: K, object: ResourceByKind[K]): Promise<ResourceByKind[K] | undefined>;
  /** Sets (string) or removes (null) annotations. */
  setAnnotations<K extends KindName>(kind: K, key: ObjectKey, annotations: Record<string, string | null>): Promise<void>;

  /**
   * Creates a User (an identity source's joiner) with the metadata given (labels, ownerReferences);
   * throws AlreadyExistsError when the name is taken. Returns the stored object.
   */
  createUser(user: User): Promise<User>;
  /**
   * Merge-patches a User's spec and labels; with `resourceVersion`, only if the object is still at
   * that version (a conflict throws a RetryableError). Returns the stored object, or undefined when it is gone.
   */
  patchUser(key: ObjectKey, patch: UserPatch, resourceVersion?: string): Promise<User | undefined>;

  /** The decoded data of a Secret in the namespace, or undefined when it does not exist. Never log it. */
  getSecret(key: ObjectKey): Promise<Record<string, string> | undefined>;
  /**
   * The labels and annotations of a Secret, or undefined when it does not exist: a Secret serves as
   * credentials only when it opts in (connections/credentials.ts).
   */
  getSecretMetadata(key: ObjectKey): Promise<SecretMetadata | undefined>;
  /**
   * A Secret Rollcall wrote and owns (a joiner's first password), with its owner, or undefined when
   * it does not exist. Never log its data.
   */
  getOwnedSecret(key: ObjectKey): Promise<OwnedSecret | undefined>;
  /** Creates a Secret owned by `owner` (it goes when the owner goes); AlreadyExistsError when the name is taken. */
  createOwnedSecret(secret: OwnedSecret): Promise<void>;
  /** Deletes a Secret; one already gone is success. */
  deleteSecret(key: ObjectKey): Promise<void>;
  /** A ConfigMap's data and labels (the labels say whether it opts in as a feed), or undefined when it does not exist. */
  getConfigMap(key: ObjectKey): Promise<ConfigMapContent | undefined>;
  /** A Kubernetes Event about the object (or a log line, for the in-memory store). */
  recordEvent(kind: KindName, object: AnyResource, type: EventType, reason: string, message: string): Promise<void>;
  /**
   * Resolves once every write made so far would survive a crash of this process; called before a
   * change is written to a connected system, so what is needed to undo it (the finalizer) is never
   * behind it (write-ahead). Absent where a write is durable when it returns (the API server).
   */
  durable?(): Promise<void>;
}

export interface SecretMetadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A Secret Rollcall writes for a person to read, owned by the object it is about (a User). */
export interface OwnedSecret {
  key: ObjectKey;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Never log it. */
  data: Record<string, string>;
  /** The ownerReference: Kubernetes' garbage collector deletes the Secret with its owner. */
  owner: { apiVersion: string; kind: string; name: string; uid: string };
}
