package main

// A few kube-controller-manager controllers, run in-process, that an API-only
// test cluster would otherwise miss:
//   - clusterrole-aggregation: fills the aggregated ClusterRoles admin/edit/view
//     (without it they have no rules, so binding "view" grants nothing);
//   - namespace: finishes namespace deletion (removes content and the
//     "kubernetes" finalizer);
//   - garbage-collector: ownerReferences cascading deletion;
//   - serviceaccount: creates the "default" ServiceAccount in every namespace.
// Nothing that needs nodes or pods to run (no scheduler, no kubelet).

import (
	"context"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	cacheddiscovery "k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/controller-manager/pkg/informerfactory"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/clusterroleaggregation"
	"k8s.io/kubernetes/pkg/controller/garbagecollector"
	namespacecontroller "k8s.io/kubernetes/pkg/controller/namespace"
	serviceaccountcontroller "k8s.io/kubernetes/pkg/controller/serviceaccount"
)

// startControllers starts the controllers and returns a function that waits
// for them to stop after ctx is cancelled.
func startControllers(ctx context.Context, base *rest.Config) (waitFn func(), err error) {
	cfg := func(name string, qpsMul float32) *rest.Config {
		c := rest.CopyConfig(base)
		c.UserAgent = "rollcall-controlplane/" + name
		c.QPS = 20 * qpsMul
		c.Burst = int(30 * qpsMul)
		return c
	}
	trim := func(obj interface{}) (interface{}, error) {
		if a, err := meta.Accessor(obj); err == nil && a.GetManagedFields() != nil {
			a.SetManagedFields(nil)
		}
		return obj, nil
	}

	client, err := kubernetes.NewForConfig(cfg("shared-informers", 1))
	if err != nil {
		return nil, err
	}
	metaClient, err := metadata.NewForConfig(cfg("metadata-informers", 1))
	if err != nil {
		return nil, err
	}
	const resync = 12 * time.Hour
	sharedInformers := informers.NewSharedInformerFactoryWithOptions(client, resync, informers.WithTransform(trim))
	metadataInformers := metadatainformer.NewSharedInformerFactoryWithOptions(metaClient, resync, metadatainformer.WithTransform(trim))
	objOrMeta := informerfactory.NewInformerFactory(sharedInformers, metadataInformers)
	informersStarted := make(chan struct{})

	discoClient, err := discovery.NewDiscoveryClientForConfig(cfg("controller-discovery", 1))
	if err != nil {
		return nil, err
	}
	restMapper := restmapper.NewDeferredDiscoveryRESTMapper(cacheddiscovery.NewMemCacheClient(discoClient))

	var wg sync.WaitGroup
	goRun := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	goRun(func() { wait.Until(restMapper.Reset, 30*time.Second, ctx.Done()) })

	// clusterrole-aggregation
	rbacClient, err := kubernetes.NewForConfig(cfg("clusterrole-aggregation-controller", 1))
	if err != nil {
		return nil, err
	}
	cra := clusterroleaggregation.NewClusterRoleAggregation(sharedInformers.Rbac().V1().ClusterRoles(), rbacClient.RbacV1())
	goRun(func() { cra.Run(ctx, 5) })

	// namespace
	nsCfg := cfg("namespace-controller", 20)
	nsClient, err := kubernetes.NewForConfig(nsCfg)
	if err != nil {
		return nil, err
	}
	nsMeta, err := metadata.NewForConfig(nsCfg)
	if err != nil {
		return nil, err
	}
	nsc := namespacecontroller.NewNamespaceController(ctx, nsClient, nsMeta,
		nsClient.Discovery().ServerPreferredNamespacedResources,
		sharedInformers.Core().V1().Namespaces(), 5*time.Minute, v1.FinalizerKubernetes)
	goRun(func() { nsc.Run(ctx, 5) })

	// serviceaccount
	saClient, err := kubernetes.NewForConfig(cfg("service-account-controller", 1))
	if err != nil {
		return nil, err
	}
	sac, err := serviceaccountcontroller.NewServiceAccountsController(klog.FromContext(ctx),
		sharedInformers.Core().V1().ServiceAccounts(), sharedInformers.Core().V1().Namespaces(),
		saClient, serviceaccountcontroller.DefaultServiceAccountsControllerOptions())
	if err != nil {
		return nil, fmt.Errorf("serviceaccount controller: %w", err)
	}
	goRun(func() { sac.Run(ctx, 1) })

	// garbage collector
	gcCfg := cfg("generic-garbage-collector", 2)
	gcClient, err := kubernetes.NewForConfig(gcCfg)
	if err != nil {
		return nil, err
	}
	gcMeta, err := metadata.NewForConfig(gcCfg)
	if err != nil {
		return nil, err
	}
	gcDisco, err := discovery.NewDiscoveryClientForConfig(gcCfg)
	if err != nil {
		return nil, err
	}
	gc, err := garbagecollector.NewGarbageCollector(ctx, gcClient, gcMeta, restMapper,
		garbagecollector.DefaultIgnoredResources(), objOrMeta, informersStarted)
	if err != nil {
		return nil, fmt.Errorf("garbage collector: %w", err)
	}
	// KCM uses 30s; new CRDs are picked up for cascading deletion at the next sync.
	const gcSyncPeriod = 5 * time.Second
	goRun(func() { gc.Run(ctx, 5, gcSyncPeriod) })
	goRun(func() { gc.Sync(ctx, gcDisco, gcSyncPeriod) })

	sharedInformers.Start(ctx.Done())
	objOrMeta.Start(ctx.Done())
	close(informersStarted)

	return func() {
		wg.Wait()
		sharedInformers.Shutdown()
		metadataInformers.Shutdown()
	}, nil
}
