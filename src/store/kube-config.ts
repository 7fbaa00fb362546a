// Where the Kubernetes credentials come from: an explicit file, else KUBECONFIG, else
// ~/.kube/config, else the pod's service account (client-node's loadFromDefault order).
import { createHash } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(path?: string): KubeConfig {
  const kubeconfig = new KubeConfig();
  if (path) kubeconfig.loadFromFile(path);
  else kubeconfig.loadFromDefault();
  if (!kubeconfig.getCurrentCluster()) {
    throw new Error(
      path
        ? `kubeconfig ${path} has no current cluster; check its current-context`
        : 'no Kubernetes cluster configured: set KUBECONFIG, pass --kubeconfig, run inside a pod, or use --manifests DIR to run without a cluster',
    );
  }
  reuseDispatchers(kubeconfig);
  return kubeconfig;
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
      Buffer.isBuffer(value) || (value as { type?: string })?.type === 'Buffer' ? createHash('sha256').update(Buffer.from(value as Buffer)).digest('hex') : value,
    );
    const key = createHash('sha256').update(setup).digest('hex');
    if (!dispatchers.has(key)) dispatchers.set(key, build.call(kubeconfig, cluster, agentOptions));
    return dispatchers.get(key);
  };
}
