// One Store over several namespaces, each a KubeStore watching only its own: one Rollcall process
// serving two tenants, without watching the namespaces of the e2e tests running beside it.
import type { Store } from '../../src/store/store.ts';

export function namespacesStore(stores: Record<string, Store>): Store {
  const all = Object.values(stores);
  const of = (namespace: string | undefined): Store => {
    const store = stores[namespace ?? 'default'];
    if (!store) throw new Error(`namespace ${namespace} is not watched`);
    return store;
  };
  return {
    start: async () => void (await Promise.all(all.map((s) => s.start()))),
    stop: async () => void (await Promise.all(all.map((s) => s.stop()))),
    list: (kind, namespace) => (namespace === undefined ? all.flatMap((s) => s.list(kind)) : (stores[namespace]?.list(kind, namespace) ?? [])),
    get: (kind, key) => stores[key.namespace]?.get(kind, key),
    watch: (kind, handler) => {
      const unwatch = all.map((s) => s.watch(kind, handler));
      return () => unwatch.forEach((u) => u());
    },
    updateStatus: (kind, key, status) => of(key.namespace).updateStatus(kind, key, status),
    setFinalizer: (kind, key, finalizer, present) => of(key.namespace).setFinalizer(kind, key, finalizer, present),
    create: (kind, object) => of(object.metadata.namespace).create(kind, object),
    setAnnotations: (kind, key, annotations) => of(key.namespace).setAnnotations(kind, key, annotations),
    createUser: (user) => of(user.metadata.namespace).createUser(user),
    patchUser: (key, patch, resourceVersion) => of(key.namespace).patchUser(key, patch, resourceVersion),
    getSecret: (key) => of(key.namespace).getSecret(key),
    getSecretMetadata: (key) => of(key.namespace).getSecretMetadata(key),
    getOwnedSecret: (key) => of(key.namespace).getOwnedSecret(key),
    createOwnedSecret: (secret) => of(secret.key.namespace).createOwnedSecret(secret),
    deleteSecret: (key) => of(key.namespace).deleteSecret(key),
    getConfigMap: (key) => of(key.namespace).getConfigMap(key),
    recordEvent: (kind, object, type, reason, message) => of(object.metadata.namespace).recordEvent(kind, object, type, reason, message),
  };
}
