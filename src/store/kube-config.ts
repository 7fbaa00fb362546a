// Where the Kubernetes credentials come from: an explicit file, else KUBECONFIG, else
// ~/.kube/config, else the pod's service account (client-node's loadFromDefault order).
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
  return kubeconfig;
}
