// What `npm run cluster` tells a person to do. The manifests it applies put the example system in
// a sqlite file of its own (examples/cluster/ over examples/quickstart/), never the standalone
// quick start's: test/unit/examples/quickstarts-separate.test.ts checks that they never share one.

/** Applied in this order with one `kubectl apply`: later files override earlier objects of the same name. */
export const WALKTHROUGH_MANIFESTS = ['examples/quickstart/', 'examples/cluster/'] as const;

export function walkthrough(kubeconfig: string, helm: string): string {
  return `
The control plane is up (no nodes: objects are stored and validated, pods never run). The chart is
installed as release rollcall in rollcall-system with no replica: CRDs, admission policies, RBAC.

  export KUBECONFIG=${kubeconfig}
  kubectl create namespace acme
  kubectl apply ${WALKTHROUGH_MANIFESTS.map((m) => `-f ${m}`).join(' ')}
  npx rollcall run --kubeconfig ${kubeconfig} --no-leader-elect
  kubectl get users -n acme

The example system keeps its accounts in .rollcall/cluster.db, apart from the standalone quick
start's .rollcall/quickstart.db.

helm: ${helm}
Ctrl-C stops it and removes its data.`;
}
