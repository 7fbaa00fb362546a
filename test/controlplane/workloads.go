package main

// With --workloads, what a test cluster needs to run pods from a Deployment on a real node
// (test/node/): the kube-scheduler, the deployment and replicaset controllers, and the
// root-ca-certificate publisher (the kube-root-ca.crt ConfigMap every ServiceAccount token volume
// projects). All in-process, like controllers.go: they are already in the Kubernetes modules this
// binary builds from, so no second and third 100 MB binary (kube-scheduler, kube-controller-manager)
// has to be built, cached and started. Off by default: the API-only suites have no node.

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	schedulerapp "k8s.io/kubernetes/cmd/kube-scheduler/app"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"k8s.io/kubernetes/pkg/controller/certificates/rootcacertpublisher"
	"k8s.io/kubernetes/pkg/controller/deployment"
	"k8s.io/kubernetes/pkg/controller/replicaset"
)

// startWorkloads starts the scheduler and the workload controllers; the returned function waits
// for them to stop after ctx is cancelled.
func startWorkloads(ctx context.Context, base *rest.Config, kubeconfig, servingCA string) (waitFn func(), err error) {
	cfg := rest.CopyConfig(base)
	cfg.UserAgent = "rollcall-controlplane/workloads"
	cfg.QPS, cfg.Burst = 50, 100
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	factory := informers.NewSharedInformerFactory(client, 12*time.Hour)

	dc, err := deployment.NewDeploymentController(ctx, factory.Apps().V1().Deployments(),
		factory.Apps().V1().ReplicaSets(), factory.Core().V1().Pods(), client)
	if err != nil {
		return nil, fmt.Errorf("deployment controller: %w", err)
	}
	rsc := replicaset.NewReplicaSetController(ctx, factory.Apps().V1().ReplicaSets(),
		factory.Core().V1().Pods(), client, replicaset.BurstReplicas)
	rootCA, err := os.ReadFile(servingCA)
	if err != nil {
		return nil, err
	}
	pub, err := rootcacertpublisher.NewPublisher(factory.Core().V1().ConfigMaps(),
		factory.Core().V1().Namespaces(), client, rootCA)
	if err != nil {
		return nil, fmt.Errorf("root CA publisher: %w", err)
	}

	// The scheduler as kube-scheduler sets it up, from its own flags: no leader election (one
	// instance), no serving port (nothing scrapes it).
	opts := scheduleroptions.NewOptions()
	fs := pflag.NewFlagSet("kube-scheduler", pflag.ContinueOnError)
	for _, f := range opts.Flags.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse([]string{"--kubeconfig=" + kubeconfig, "--leader-elect=false", "--secure-port=0"}); err != nil {
		return nil, fmt.Errorf("scheduler flags: %w", err)
	}
	if opts.InformerName, err = cache.NewInformerName("kube-scheduler"); err != nil {
		return nil, err
	}
	cc, sched, err := schedulerapp.Setup(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}

	var wg sync.WaitGroup
	goRun := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	goRun(func() { dc.Run(ctx, 2) })
	goRun(func() { rsc.Run(ctx, 2) })
	goRun(func() { pub.Run(ctx, 1) })
	goRun(func() {
		if err := schedulerapp.Run(ctx, cc, sched); err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "rollcall-controlplane: scheduler: %v\n", err)
		}
	})
	factory.Start(ctx.Done())
	return func() { wg.Wait(); factory.Shutdown() }, nil
}
