// Where the Kubernetes credentials come from: an explicit file, else KUBECONFIG, else
// ~/.kube/config, else the pod's service account (client-node's loadFromDefault order).
import { createHash } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';

/** Whom to act as, as kubectl's --context, --as and --as-group choose. */
export interface KubeIdentity {
  context?: string;
  /** Impersonate this user (the Impersonate-User header): the API server checks `impersonate` first. */
  as?: string;
  /** With `as`: impersonate this group too. */
  asGroup?: string;
}

export function loadKubeConfig(path?: string, identity: KubeIdentity = {}): KubeConfig {
  const kubeconfig = new KubeConfig();
  if (path) kubeconfig.loadFromFile(path);
  else kubeconfig.loadFromDefault();
  if (identity.context !== undefined) {
    if (!kubeconfig.getContextObject(identity.context)) throw new Error(`--context ${identity.context}: no such context in the kubeconfig`);
    kubeconfig.setCurrentContext(identity.context);
  }
  if (!kubeconfig.getCurrentCluster()) {
    throw new Error(
      path
        ? `kubeconfig ${path} has no current cluster; check its current-context`
        : 'no Kubernetes cluster configured: set KUBECONFIG, pass --kubeconfig, run inside a pod, or use --manifests DIR to run without a cluster',
    );
  }
  impersonate(kubeconfig, identity);
  reuseDispatchers(kubeconfig);
  return kubeconfig;
}

/**
 * Every request carries the impersonation headers kubectl would send, so a command run with --as
 * reads no more than that user may. client-node sends Impersonate-User for a kubeconfig user's `as`;
 * the group header it does not know is added where it builds each request's headers.
 */
function impersonate(kubeconfig: KubeConfig, { as, asGroup }: KubeIdentity): void {
  if (asGroup !== undefined && as === undefined) throw new Error('--as-group needs --as: the API server impersonates a group only together with a user');
  if (as === undefined) return;
  const current = kubeconfig.getCurrentUser();
  if (!current) throw new Error("--as: the kubeconfig's current context has no user to impersonate with");
  kubeconfig.users = kubeconfig.users.map((user) => (user === current ? { ...user, impersonateUser: as } : user));
  if (asGroup === undefined) return;
  type HeaderOptions = { headers?: Record<string, string> };
  const target = kubeconfig as unknown as { applyOptions?: (options: HeaderOptions) => Promise<void> };
  const apply = target.applyOptions;
  if (typeof apply !== 'function') throw new Error('--as-group: this @kubernetes/client-node cannot add the impersonation header');
  target.applyOptions = async (options) => {
    await apply.call(kubeconfig, options);
    options.headers = { ...options.headers, 'Impersonate-Group': asGroup };
  };
}

type DispatcherFactory = (cluster: unknown, agentOptions: Record<string, unknown>) => unknown;

/**
 * client-node 2.0.1 builds a new undici Agent for every API request (`createDispatcher`, called
 * by `applySecurityAuthentication`; kubernetes-client/javascript#2893 fixed only the https.Agent
 * path), so every request opened a new TLS connection: a handshake, a certificate check and a new
 * secure context each time, most of Rollcall's CPU at a few thousand Users. One dispatcher per TLS
 * setup (cluster, CA, client certificate) keeps connections open and reused. A rotated
 * certificate is a new setup and gets its own.
 */
function reuseDispatchers(kubeconfig: KubeConfig): void {
  const target = kubeconfig as unknown as { createDispatcher?: DispatcherFactory };
  const build = target.createDispatcher;
  if (typeof build !== 'function') return; // a client-node that no longer has it manages its own
  const dispatchers = new Map<string, unknown>();
  target.createDispatcher = (cluster, agentOptions) => {
    const setup = JSON.stringify([cluster, agentOptions], (_key, value: unknown) =>
      Buffer.isBuffer(value) || (value as { type?: string })?.type === 'Buffer'
        ? createHash('sha256')
            .update(Buffer.from(value as Buffer))
            .digest('hex')
        : value,
    );
    const key = createHash('sha256').update(setup).digest('hex');
    if (!dispatchers.has(key)) dispatchers.set(key, build.call(kubeconfig, cluster, agentOptions));
    return dispatchers.get(key);
  };
}
