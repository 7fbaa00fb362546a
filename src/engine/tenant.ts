// A namespace is a tenant: nothing a User uses may come from another namespace.

interface Namespaced {
  metadata: { namespace?: string | undefined };
}

/** Matches keyOf() in the store: an object without a namespace lives in "default". */
export function namespaceOf(object: Namespaced): string {
  return object.metadata.namespace ?? 'default';
}

export function sameTenant<T extends Namespaced>(owner: Namespaced, objects: readonly T[]): T[] {
  const namespace = namespaceOf(owner);
  return objects.filter((object) => namespaceOf(object) === namespace);
}
