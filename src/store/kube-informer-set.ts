// The informers of one kind over the namespaces Rollcall serves, read as one. Serving a few
// namespaces takes one informer (list and watch) per namespace: a ServiceAccount whose Roles allow
// listing only there cannot watch across all namespaces. Serving all takes one cluster-wide informer.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { InformerHealth, WatchedInformer } from './kube-informer.ts';

export class InformerSet<T extends KubernetesObject> {
  /** By namespace; a single entry under undefined when every namespace is watched. */
  readonly #byNamespace: ReadonlyMap<string | undefined, WatchedInformer<T>>;

  constructor(byNamespace: ReadonlyMap<string | undefined, WatchedInformer<T>>) {
    this.#byNamespace = byNamespace;
  }

  on(verb: 'add' | 'update' | 'delete', handler: (object: T) => void): void {
    for (const informer of this.#byNamespace.values()) informer.on(verb, handler);
  }

  /** The object, or undefined when it does not exist or its namespace is not watched. */
  get(name: string, namespace?: string): T | undefined {
    const everywhere = this.#byNamespace.get(undefined);
    if (everywhere) return everywhere.get(name, namespace);
    if (namespace !== undefined) return this.#byNamespace.get(namespace)?.get(name, namespace);
    for (const informer of this.#byNamespace.values()) {
      const found = informer.get(name);
      if (found) return found;
    }
    return undefined;
  }

  list(namespace?: string): ReadonlyArray<T> {
    const everywhere = this.#byNamespace.get(undefined);
    if (everywhere) return everywhere.list(namespace);
    if (namespace !== undefined) return this.#byNamespace.get(namespace)?.list(namespace) ?? [];
    return [...this.#byNamespace.values()].flatMap((informer) => informer.list());
  }

  /** Restarts summed, the longest silence, running only while every informer runs, dead if any is. */
  health(): InformerHealth {
    const all = [...this.#byNamespace.values()].map((informer) => informer.health());
    const dead = all.flatMap((h) => (h.dead ? [h.dead] : []));
    return {
      restarts: all.reduce((sum, h) => sum + h.restarts, 0),
      silentForMs: Math.max(...all.map((h) => h.silentForMs)),
      running: all.every((h) => h.running),
      ...(dead.length ? { dead: dead.join('; ') } : {}),
    };
  }

  async start(): Promise<void> {
    await Promise.all([...this.#byNamespace.values()].map((informer) => informer.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#byNamespace.values()].map((informer) => informer.stop()));
  }

  async restart(reason: string): Promise<void> {
    await Promise.all([...this.#byNamespace.values()].map((informer) => informer.restart(reason)));
  }
}
