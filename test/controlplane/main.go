// Command rollcall-controlplane runs a minimal Kubernetes control plane
// (embedded etcd + kube-apiserver, no kubelet, no controller-manager) in a
// single process, for Rollcall's test suite.
//
// Usage:
//
//	rollcall-controlplane --kubeconfig OUT [--dir DATA] [--port N] [-- extra kube-apiserver flags]
//
// When the API server answers /readyz and the "default" namespace exists, one
// line "READY <kubeconfig path>" is printed on stdout. Everything else (logs)
// goes to stderr. SIGTERM or SIGINT stop the API server, then etcd, and remove
// the data directory if it was a temporary one.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/embed"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/component-base/cli/globalflag"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/component-base/featuregate"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "rollcall-controlplane: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("rollcall-controlplane", flag.ContinueOnError)
	kubeconfigPath := fs.String("kubeconfig", "", "path to write the admin kubeconfig to (required)")
	dataDir := fs.String("dir", "", "data directory for etcd and certificates (default: a temporary directory, removed on exit)")
	port := fs.Int("port", 0, "secure port for kube-apiserver on 127.0.0.1 (0 = a free port)")
	startTimeout := fs.Duration("start-timeout", 3*time.Minute, "give up if not ready within this time")
	exitWithParent := fs.Bool("exit-with-parent", true, "shut down cleanly when the parent process dies (checked every second)")
	runControllers := fs.Bool("controllers", true, "run the in-process controllers (clusterrole aggregation, namespace, garbage collector, serviceaccount)")
	runWorkloads := fs.Bool("workloads", false, "for a cluster with a node (test/node): also run the scheduler, the deployment, replicaset and root CA publisher controllers, and the ServiceAccount admission plugin (token volumes in pods)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: rollcall-controlplane --kubeconfig OUT [--dir DIR] [--port N] [-- extra kube-apiserver flags]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	extraArgs := fs.Args() // anything after "--" goes to kube-apiserver
	if *kubeconfigPath == "" {
		fs.Usage()
		return errors.New("--kubeconfig is required")
	}
	kcPath, err := filepath.Abs(*kubeconfigPath)
	if err != nil {
		return err
	}

	// Signals: the first SIGTERM/SIGINT starts a clean shutdown.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigCh := make(chan os.Signal, 2)
	signal.Notify(sigCh, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sigCh
		klog.Infof("rollcall-controlplane: received %v, shutting down", s)
		cancel()
		<-sigCh
		fmt.Fprintln(os.Stderr, "rollcall-controlplane: second signal, exiting immediately")
		os.Exit(1)
	}()

	if *exitWithParent {
		// If whoever started us dies without stopping us (a crashed test
		// runner), we get re-parented: stop instead of lingering.
		ppid := os.Getppid()
		go func() {
			for range time.Tick(time.Second) {
				if os.Getppid() != ppid {
					klog.Infof("rollcall-controlplane: parent process %d exited", ppid)
					sigCh <- syscall.SIGTERM
					return
				}
			}
		}()
	}

	dir := *dataDir
	tempDir := false
	if dir == "" {
		dir, err = os.MkdirTemp("", "rollcall-controlplane-")
		if err != nil {
			return err
		}
		tempDir = true
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	dir, _ = filepath.Abs(dir)
	if tempDir {
		defer func() {
			if err := os.RemoveAll(dir); err != nil {
				fmt.Fprintf(os.Stderr, "rollcall-controlplane: removing %s: %v\n", dir, err)
			}
		}()
	}
	certDir := filepath.Join(dir, "pki")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}

	// Secure port listener, handed to kube-apiserver directly (no port race).
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return fmt.Errorf("listening on 127.0.0.1:%d: %w", *port, err)
	}
	apiPort := ln.Addr().(*net.TCPAddr).Port
	serverURL := "https://127.0.0.1:" + strconv.Itoa(apiPort)

	// ---- etcd ----
	etcd, etcdURL, err := startEtcd(ctx, filepath.Join(dir, "etcd"))
	if err != nil {
		ln.Close()
		return err
	}
	defer func() {
		klog.Infof("rollcall-controlplane: stopping etcd (its \"server closed\" errors below are expected)")
		etcd.Close()
		klog.Infof("rollcall-controlplane: etcd stopped")
	}()

	// ---- certificates ----
	pki, err := writePKI(certDir)
	if err != nil {
		ln.Close()
		return err
	}

	// ---- kube-apiserver ----
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + certDir,
		"--tls-cert-file=" + pki.servingCert,
		"--tls-private-key-file=" + pki.servingKey,
		"--client-ca-file=" + pki.clientCA,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pki.saPub,
		"--service-account-signing-key-file=" + pki.saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		// The "kubernetes" Service endpoint would be 127.0.0.1, which
		// Endpoints validation rejects; there are no pods to use it anyway.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}
	if !*runWorkloads {
		// Without a node no pod runs, and without the plugin a pod needs no ServiceAccount.
		args = append(args, "--disable-admission-plugins=ServiceAccount")
	}
	args = append(args, extraArgs...)

	// The API server gets its own context so that, on shutdown, the
	// in-process controllers stop first and the API server after them.
	apiCtx, apiCancel := context.WithCancel(context.Background())
	defer apiCancel()
	apiErr := make(chan error, 1)
	go func() { apiErr <- runAPIServer(apiCtx, args, ln) }()
	stopAPIServer := func() {
		apiCancel()
		select {
		case err := <-apiErr:
			if err != nil {
				klog.Errorf("rollcall-controlplane: kube-apiserver: %v", err)
			}
			klog.Infof("rollcall-controlplane: kube-apiserver stopped")
		case <-time.After(60 * time.Second):
			klog.Errorf("rollcall-controlplane: kube-apiserver did not stop within 60s")
		}
	}

	// ---- kubeconfig + readiness ----
	if err := writeKubeconfig(kcPath, serverURL, pki); err != nil {
		stopAPIServer()
		return err
	}
	readyCtx, readyCancel := context.WithTimeout(ctx, *startTimeout)
	defer readyCancel()
	if err := waitReady(readyCtx, kcPath, apiErr); err != nil {
		stopAPIServer()
		return err
	}

	waitControllers := func() {}
	if *runControllers {
		restCfg, err := clientcmd.BuildConfigFromFlags("", kcPath)
		if err != nil {
			stopAPIServer()
			return err
		}
		ctrlCtx, ctrlCancel := context.WithCancel(ctx)
		defer ctrlCancel()
		w, err := startControllers(ctrlCtx, restCfg)
		if err != nil {
			ctrlCancel()
			stopAPIServer()
			return fmt.Errorf("starting controllers: %w", err)
		}
		if *runWorkloads {
			wl, err := startWorkloads(ctrlCtx, restCfg, kcPath, pki.servingCA)
			if err != nil {
				ctrlCancel()
				w()
				stopAPIServer()
				return fmt.Errorf("starting the scheduler and workload controllers: %w", err)
			}
			controllersOnly := w
			w = func() { controllersOnly(); wl() }
		}
		waitControllers = func() {
			ctrlCancel()
			done := make(chan struct{})
			go func() { w(); close(done) }()
			select {
			case <-done:
				klog.Infof("rollcall-controlplane: controllers stopped")
			case <-time.After(20 * time.Second):
				klog.Errorf("rollcall-controlplane: controllers did not stop within 20s")
			}
		}
		if err := waitAggregated(readyCtx, restCfg, apiErr); err != nil {
			waitControllers()
			stopAPIServer()
			return err
		}
	}
	readyCancel()

	fmt.Printf("READY %s\n", kcPath)
	os.Stdout.Sync()

	select {
	case <-ctx.Done():
		waitControllers()
		stopAPIServer()
		return nil
	case err := <-apiErr:
		waitControllers()
		if err == nil {
			err = errors.New("kube-apiserver exited unexpectedly")
		}
		return err
	case err := <-etcd.Err():
		waitControllers()
		stopAPIServer()
		return fmt.Errorf("etcd: %w", err)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startEtcd(ctx context.Context, dir string) (*embed.Etcd, string, error) {
	clientPort, err := freePort()
	if err != nil {
		return nil, "", err
	}
	peerPort, err := freePort()
	if err != nil {
		return nil, "", err
	}
	cu, _ := url.Parse("http://127.0.0.1:" + strconv.Itoa(clientPort))
	pu, _ := url.Parse("http://127.0.0.1:" + strconv.Itoa(peerPort))

	cfg := embed.NewConfig()
	cfg.Name = "rollcall"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{*cu}
	cfg.AdvertiseClientUrls = []url.URL{*cu}
	cfg.ListenPeerUrls = []url.URL{*pu}
	cfg.AdvertisePeerUrls = []url.URL{*pu}
	cfg.InitialCluster = cfg.Name + "=" + pu.String()
	cfg.UnsafeNoFsync = true
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"stderr"}
	cfg.QuotaBackendBytes = 2 << 30 // 2 GiB
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "5m"

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("starting etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, "", fmt.Errorf("etcd: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, "", errors.New("etcd did not become ready within 60s")
	case <-ctx.Done():
		e.Close()
		return nil, "", errors.New("interrupted while starting etcd")
	}
	return e, cu.String(), nil
}

// runAPIServer mirrors what k8s.io/kubernetes/cmd/kube-apiserver/app's cobra
// command does, minus its process-wide signal handler (we own signals).
func runAPIServer(ctx context.Context, args []string, ln net.Listener) error {
	s := options.NewServerRunOptions()
	featureGate := s.GenericServerRunOptions.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)

	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	namedFlagSets := s.Flags()
	globalflag.AddGlobalFlags(namedFlagSets.FlagSet("global"), "kube-apiserver", logs.SkipLoggingConfigurationFlags())
	for _, f := range namedFlagSets.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(args); err != nil {
		ln.Close()
		return err
	}
	s.SecureServing.Listener = ln

	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	if err := logsapi.ValidateAndApply(s.Logs, featureGate); err != nil {
		return err
	}
	completed, err := s.Complete(ctx)
	if err != nil {
		return err
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return utilerrors.NewAggregate(errs)
	}
	if mfg, ok := featureGate.(featuregate.MutableFeatureGate); ok {
		mfg.AddMetrics()
	}
	s.GenericServerRunOptions.ComponentGlobalsRegistry.AddMetrics()
	return app.Run(ctx, completed)
}

func waitReady(ctx context.Context, kubeconfig string, apiErr <-chan error) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	var last error
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-apiErr:
			if err == nil {
				err = errors.New("kube-apiserver exited")
			}
			return fmt.Errorf("kube-apiserver failed to start: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("control plane not ready: %v (last error: %v)", ctx.Err(), last)
		case <-tick.C:
		}
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			last = fmt.Errorf("/readyz: %v %s", err, body)
			continue
		}
		if _, err := cs.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{}); err != nil {
			last = fmt.Errorf("namespace default: %v", err)
			continue
		}
		return nil
	}
}

// waitAggregated waits until the clusterrole-aggregation controller has
// filled the aggregated "admin" ClusterRole.
func waitAggregated(ctx context.Context, cfg *rest.Config, apiErr <-chan error) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	var last error
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-apiErr:
			return fmt.Errorf("kube-apiserver exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("aggregated ClusterRoles not filled: %v (last error: %v)", ctx.Err(), last)
		case <-tick.C:
		}
		cr, err := cs.RbacV1().ClusterRoles().Get(ctx, "admin", metav1.GetOptions{})
		if err != nil {
			last = err
			continue
		}
		if len(cr.Rules) > 0 {
			return nil
		}
	}
}

// ---- PKI ----

type pkiFiles struct {
	servingCA, servingCert, servingKey string
	clientCA                           string
	adminCert, adminKey                string
	saKey, saPub                       string
	servingCAPEM, adminCertPEM         []byte
	adminKeyPEM                        []byte
}

type keyPair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

func newCA(cn string) (*keyPair, []byte, error) {
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return &keyPair{cert, key}, pemCert(der), nil
}

func (ca *keyPair) issue(tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl.SerialNumber = serial()
	tmpl.NotBefore = now.Add(-time.Hour)
	tmpl.NotAfter = now.Add(10 * 365 * 24 * time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pemCert(der), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func writePKI(dir string) (*pkiFiles, error) {
	p := &pkiFiles{
		servingCA:   filepath.Join(dir, "serving-ca.crt"),
		servingCert: filepath.Join(dir, "apiserver.crt"),
		servingKey:  filepath.Join(dir, "apiserver.key"),
		clientCA:    filepath.Join(dir, "client-ca.crt"),
		adminCert:   filepath.Join(dir, "admin.crt"),
		adminKey:    filepath.Join(dir, "admin.key"),
		saKey:       filepath.Join(dir, "sa.key"),
		saPub:       filepath.Join(dir, "sa.pub"),
	}
	servingCA, servingCAPEM, err := newCA("rollcall-controlplane-serving-ca")
	if err != nil {
		return nil, err
	}
	servingCert, servingKey, err := servingCA.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP("10.0.0.1")},
	})
	if err != nil {
		return nil, err
	}
	clientCA, clientCAPEM, err := newCA("rollcall-controlplane-client-ca")
	if err != nil {
		return nil, err
	}
	adminCert, adminKey, err := clientCA.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		p.servingCA:   servingCAPEM,
		p.servingCert: append(append([]byte{}, servingCert...), servingCAPEM...),
		p.servingKey:  servingKey,
		p.clientCA:    clientCAPEM,
		p.adminCert:   adminCert,
		p.adminKey:    adminKey,
		p.saKey:       pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}),
		p.saPub:       pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPubDER}),
	}
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	p.servingCAPEM, p.adminCertPEM, p.adminKeyPEM = servingCAPEM, adminCert, adminKey
	return p, nil
}

func writeKubeconfig(path, server string, p *pkiFiles) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["rollcall"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: p.servingCAPEM}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: p.adminCertPEM, ClientKeyData: p.adminKeyPEM}
	cfg.Contexts["rollcall"] = &clientcmdapi.Context{Cluster: "rollcall", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "rollcall"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// Write atomically so a reader never sees a partial file.
	tmp := path + ".tmp"
	if err := clientcmd.WriteToFile(*cfg, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
