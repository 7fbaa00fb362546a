// The few RBAC calls the connector makes, with the statuses that mean success (404 on delete, 409 on create).
import { RbacAuthorizationV1Api, type ConfigurationOptions, type KubeConfig } from '@kubernetes/client-node';
import type { Binding } from './bindings.ts';
import { apiCall, type CallSettings } from './call.ts';
import { statusCode } from './errors.ts';

const PAGE_SIZE = 500;

export interface BindingRef {
  name: string;
  /** undefined for a ClusterRoleBinding. */
  namespace: string | undefined;
}

export function describeRef(ref: BindingRef): string {
  return ref.namespace === undefined ? `ClusterRoleBinding ${ref.name}` : `RoleBinding ${ref.namespace}/${ref.name}`;
}

/** The RBAC verb on the binding kind that `ref` names, for a 403 message a person can act on. */
function permissionOn(verb: string, ref: BindingRef): string {
  return ref.namespace === undefined ? `${verb} clusterrolebindings` : `${verb} rolebindings in namespace ${ref.namespace}`;
}

export class RbacClient {
  readonly #api: RbacAuthorizationV1Api;
  readonly #settings: CallSettings;

  constructor(kubeconfig: KubeConfig, settings: CallSettings) {
    this.#api = kubeconfig.makeApiClient(RbacAuthorizationV1Api);
    this.#settings = settings;
  }

  /** Every ClusterRoleBinding and RoleBinding (all namespaces) matching `labelSelector`. */
  async list(labelSelector: string, signal: AbortSignal, limit?: number): Promise<Binding[]> {
    const permission = 'list clusterrolebindings and rolebindings in all namespaces';
    const out: Binding[] = [];
    for (const kind of ['cluster', 'namespaced'] as const) {
      let token: string | undefined;
      do {
        const page = await this.#call(`list ${kind === 'cluster' ? 'ClusterRoleBindings' : 'RoleBindings'}`, permission, signal, (options) => {
          const query = { labelSelector, limit: limit ?? PAGE_SIZE, ...(token === undefined ? {} : { _continue: token }) };
          return kind === 'cluster' ? this.#api.listClusterRoleBinding(query, options) : this.#api.listRoleBindingForAllNamespaces(query, options);
        });
        out.push(...page.items);
        token = limit === undefined ? page.metadata?._continue || undefined : undefined;
      } while (token !== undefined);
    }
    return out;
  }

  /** The binding `ref` names, or undefined when there is none. */
  async read(ref: BindingRef, signal: AbortSignal): Promise<Binding | undefined> {
    try {
      return await this.#call(`read ${describeRef(ref)}`, permissionOn('get', ref), signal, (options) =>
        ref.namespace === undefined
          ? this.#api.readClusterRoleBinding({ name: ref.name }, options)
          : this.#api.readNamespacedRoleBinding({ name: ref.name, namespace: ref.namespace }, options),
      );
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  /** Creates `binding`; false (nothing written) when one of that name already exists. */
  async create(binding: Binding, signal: AbortSignal): Promise<boolean> {
    const ref = refOf(binding);
    try {
      await this.#call(`create ${describeRef(ref)}`, `${permissionOn('create', ref)} and bind role ${binding.roleRef.name}`, signal, (options) =>
        ref.namespace === undefined
          ? this.#api.createClusterRoleBinding({ body: binding }, options)
          : this.#api.createNamespacedRoleBinding({ namespace: ref.namespace, body: binding }, options),
      );
      return true;
    } catch (error) {
      if (statusCode(error) === 409) return false;
      throw error;
    }
  }

  /** Overwrites the binding; `binding.metadata.resourceVersion` makes a concurrent change fail (409) instead of being lost. */
  async replace(binding: Binding, signal: AbortSignal): Promise<void> {
    const ref = refOf(binding);
    await this.#call(`replace ${describeRef(ref)}`, `${permissionOn('update', ref)} and bind role ${binding.roleRef.name}`, signal, (options) =>
      ref.namespace === undefined
        ? this.#api.replaceClusterRoleBinding({ name: ref.name, body: binding }, options)
        : this.#api.replaceNamespacedRoleBinding({ name: ref.name, namespace: ref.namespace, body: binding }, options),
    );
  }

  /** Deletes the binding; one already gone counts as deleted. */
  async delete(ref: BindingRef, signal: AbortSignal): Promise<void> {
    try {
      await this.#call(`delete ${describeRef(ref)}`, permissionOn('delete', ref), signal, (options) =>
        ref.namespace === undefined
          ? this.#api.deleteClusterRoleBinding({ name: ref.name }, options)
          : this.#api.deleteNamespacedRoleBinding({ name: ref.name, namespace: ref.namespace }, options),
      );
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
    }
  }

  #call<T>(what: string, permission: string, signal: AbortSignal, run: (options: ConfigurationOptions) => Promise<T>): Promise<T> {
    return apiCall(this.#settings, what, permission, signal, run);
  }
}

export function refOf(binding: Binding): BindingRef {
  return { name: binding.metadata?.name ?? '', namespace: binding.metadata?.namespace };
}
