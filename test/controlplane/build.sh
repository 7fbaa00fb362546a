#!/usr/bin/env bash
# Builds the test control plane (rollcall-controlplane: embedded etcd + kube-apiserver, from the
# Kubernetes Go modules) and helm when they are missing, caching them by version outside the
# repository in ${ROLLCALL_CACHE:-$HOME/.cache/rollcall}/bin/.
#
# stdout: exactly two lines, the absolute paths of
#   1. rollcall-controlplane-<k8s version>-<source hash>
#   2. helm-<helm version>
# Progress goes to stderr. Idempotent and safe to run concurrently (a lock serialises builds).
# A cold build (empty Go module and build caches) took 5m40s on 2 idle cores (control plane
# 4m40s, helm 1 min; up to twice that on a busy machine); a cached run returns at once.
set -euo pipefail

HELM_VERSION=v3.22.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${ROLLCALL_CACHE:-$HOME/.cache/rollcall}
bin=$cache/bin
mkdir -p "$bin"

log() { printf '[controlplane/build] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "go is not installed (Go >= 1.26 is needed)"; exit 1; }

k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$here/go.mod")
[[ -n $k8s_version ]] || { log "cannot find the k8s.io/kubernetes version in go.mod"; exit 1; }
k8s_minor=${k8s_version#v1.}
k8s_minor=${k8s_minor%%.*}

# Version stamps: without them clients see v0.0.0-master.
stamp() {
  local pkg=$1
  printf -- '-X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean -X %s.buildDate=1970-01-01T00:00:00Z ' \
    "$pkg" "$k8s_version" "$pkg" "$pkg" "$k8s_minor" "$pkg" "$pkg"
}
cp_ldflags="-s -w $(stamp k8s.io/component-base/version)$(stamp k8s.io/client-go/pkg/version)"

# The binary's name carries a hash of its sources and flags, so an edit here rebuilds it.
src_hash=$(cd "$here" && { cat go.mod go.sum ./*.go; echo "$cp_ldflags"; } | sha256sum | cut -c1-10)
cp_bin=$bin/rollcall-controlplane-$k8s_version-$src_hash
helm_bin=$bin/helm-$HELM_VERSION

export CGO_ENABLED=0

build_controlplane() {
  log "building rollcall-controlplane $k8s_version (kube-apiserver + etcd; cold: ~5 min on 2 idle cores)"
  local start=$SECONDS tmp=$cp_bin.tmp.$$
  (cd "$here" && GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -ldflags "$cp_ldflags" -o "$tmp" .)
  mv -f "$tmp" "$cp_bin"
  # Older builds of the same Kubernetes version are superseded.
  find "$bin" -maxdepth 1 -name "rollcall-controlplane-$k8s_version-*" ! -name "$(basename "$cp_bin")" -delete
  log "built $cp_bin in $((SECONDS - start)) s"
}

build_helm() {
  log "building helm $HELM_VERSION (cold: ~1 min)"
  local start=$SECONDS tmp
  tmp=$(mktemp -d "$bin/.helm-build.XXXXXX")
  # helm's Makefile stamps its version and the Kubernetes version `helm template` assumes.
  # The Kubernetes minor is that of the client-go helm is built against, as in its Makefile.
  local gomod kube_minor
  gomod=$(GOFLAGS=-buildvcs=false go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  kube_minor=$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2]; exit }' "$gomod")
  [[ $kube_minor =~ ^[0-9]+$ ]] || { log "cannot read helm's client-go version from $gomod"; rm -rf "$tmp"; return 1; }
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kube_minor"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kube_minor"
  if ! GOBIN=$tmp GOFLAGS=-buildvcs=false go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"; then
    rm -rf "$tmp"
    return 1
  fi
  mv -f "$tmp/helm" "$helm_bin"
  rm -rf "$tmp"
  log "built $helm_bin in $((SECONDS - start)) s"
}

if [[ ! -x $cp_bin || ! -x $helm_bin ]]; then
  # One build at a time (2 cores): concurrent callers wait here, then find the binaries built.
  exec 9>"$bin/.build.lock"
  flock 9
  [[ -x $cp_bin ]] || build_controlplane
  [[ -x $helm_bin ]] || build_helm
  flock -u 9
fi

printf '%s\n' "$cp_bin" "$helm_bin"
