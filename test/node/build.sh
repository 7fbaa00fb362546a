#!/usr/bin/env bash
# Builds what a real test node runs, from Go modules, when missing, caching each by version outside
# the repository in ${ROLLCALL_CACHE:-$HOME/.cache/rollcall}/bin/:
#   runc            github.com/opencontainers/runc            (cgo + seccomp: scripts/install/node-build-deps.sh)
#   cni-plugins     github.com/containernetworking/plugins    (bridge, host-local, loopback)
#   containerd      github.com/containerd/containerd/v2       (containerd, containerd-shim-runc-v2, ctr)
#   pause image     test/node/pause.c, static, as an OCI archive (the pod sandbox image: no registry)
#   kubelet         k8s.io/kubernetes/cmd/kubelet             (the Kubernetes version of the control plane;
#                   this directory's go.mod pins its staging modules, as test/controlplane/go.mod does)
#
# stdout: exactly five lines, the absolute paths of
#   1. the kubelet binary   2. the containerd directory   3. the runc binary   4. the CNI plugin directory
#   5. the pause image's OCI archive (imported as rollcall.test/pause:1)
# Progress goes to stderr. Idempotent and safe to run concurrently (a lock serialises builds).
# Cold build times (empty build cache for these modules, 2 cores shared with other work): see
# docs/test-node.md; a cached run returns at once.
set -euo pipefail

CONTAINERD_VERSION=v2.4.2
RUNC_VERSION=v1.5.3
CNI_PLUGINS_VERSION=v1.10.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${ROLLCALL_CACHE:-$HOME/.cache/rollcall}
bin=$cache/bin
mkdir -p "$bin"

log() { printf '[node/build] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "go is not installed (Go >= 1.26 is needed)"; exit 1; }

k8s_version=$(awk '{ sub(/^require /, "") } $1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$here/go.mod")
[[ -n $k8s_version ]] || { log "cannot find the k8s.io/kubernetes version in go.mod"; exit 1; }
k8s_minor=${k8s_version#v1.}
k8s_minor=${k8s_minor%%.*}

stamp() {
  local pkg=$1
  printf -- '-X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean -X %s.buildDate=1970-01-01T00:00:00Z ' \
    "$pkg" "$k8s_version" "$pkg" "$pkg" "$k8s_minor" "$pkg" "$pkg"
}
kubelet_ldflags="-s -w $(stamp k8s.io/component-base/version)$(stamp k8s.io/client-go/pkg/version)"
kubelet_hash=$(cd "$here" && { cat go.mod go.sum; echo "$kubelet_ldflags"; } | sha256sum | cut -c1-10)

kubelet_bin=$bin/kubelet-$k8s_version-$kubelet_hash
containerd_dir=$bin/containerd-$CONTAINERD_VERSION
runc_bin=$bin/runc-$RUNC_VERSION
cni_dir=$bin/cni-plugins-$CNI_PLUGINS_VERSION
pause_hash=$({ cat "$here/pause.c" "$here/../../scripts/image/oci-layout.sh"; gcc --version | head -1; } | sha256sum | cut -c1-10)
pause_dir=$bin/pause-image-$pause_hash

# go_install DEST_DIR LDFLAGS PACKAGE@VERSION...: builds into a temporary directory beside DEST_DIR
# and renames it into place, so a half-built directory is never taken for a cached one.
go_install() {
  local dest=$1 ldflags=$2 tmp
  shift 2
  tmp=$(mktemp -d "$dest.tmp.XXXXXX")
  chmod 755 "$tmp"
  if ! GOBIN=$tmp GOFLAGS=-buildvcs=false go install -trimpath -ldflags "$ldflags" "$@"; then
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$dest"
  mv "$tmp" "$dest"
}

build_runc() {
  log "building runc $RUNC_VERSION (cgo, seccomp)"
  local start=$SECONDS tmp=$bin/.runc-build
  CGO_ENABLED=1 go_install "$tmp" "-s -w -X main.version=${RUNC_VERSION#v}" -tags seccomp \
    "github.com/opencontainers/runc@$RUNC_VERSION"
  mv -f "$tmp/runc" "$runc_bin"
  rm -rf "$tmp"
  log "built $runc_bin in $((SECONDS - start)) s"
}

build_cni() {
  log "building CNI plugins $CNI_PLUGINS_VERSION (bridge, host-local, loopback)"
  local start=$SECONDS
  CGO_ENABLED=0 go_install "$cni_dir" "-s -w" \
    "github.com/containernetworking/plugins/plugins/main/bridge@$CNI_PLUGINS_VERSION" \
    "github.com/containernetworking/plugins/plugins/main/loopback@$CNI_PLUGINS_VERSION" \
    "github.com/containernetworking/plugins/plugins/ipam/host-local@$CNI_PLUGINS_VERSION"
  log "built $cni_dir in $((SECONDS - start)) s"
}

build_containerd() {
  log "building containerd $CONTAINERD_VERSION (containerd, containerd-shim-runc-v2, ctr)"
  local start=$SECONDS
  CGO_ENABLED=0 go_install "$containerd_dir" \
    "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION"
  log "built $containerd_dir in $((SECONDS - start)) s"
}

build_pause() {
  log "building the pause image"
  local tmp
  tmp=$(mktemp -d "$bin/.pause-build.XXXXXX")
  mkdir -p "$tmp/tree" "$tmp/out"
  gcc -static -Os -s -o "$tmp/tree/pause" "$here/pause.c"
  bash "$here/../../scripts/image/oci-layout.sh" "$tmp/out" rollcall.test/pause:1 \
    '{"created":"1970-01-01T00:00:00Z","architecture":"amd64","os":"linux","config":{"User":"65535:65535","Entrypoint":["/pause"]}}' \
    "$tmp/tree"
  chmod 755 "$tmp/out"
  rm -rf "$pause_dir"
  mv "$tmp/out" "$pause_dir"
  rm -rf "$tmp"
  find "$bin" -maxdepth 1 -name 'pause-image-*' ! -name "$(basename "$pause_dir")" -exec rm -rf {} +
}

build_kubelet() {
  log "building kubelet $k8s_version (cold: see docs/test-node.md)"
  local start=$SECONDS tmp=$kubelet_bin.tmp.$$
  (cd "$here" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
    go build -trimpath -ldflags "$kubelet_ldflags" -o "$tmp" k8s.io/kubernetes/cmd/kubelet)
  mv -f "$tmp" "$kubelet_bin"
  find "$bin" -maxdepth 1 -name "kubelet-$k8s_version-*" ! -name "$(basename "$kubelet_bin")" -delete
  log "built $kubelet_bin in $((SECONDS - start)) s"
}

if [[ ! -x $kubelet_bin || ! -x $containerd_dir/containerd || ! -x $runc_bin || ! -x $cni_dir/bridge || ! -s $pause_dir/image.oci.tar ]]; then
  # One build at a time (2 cores): concurrent callers wait here, then find the binaries built.
  exec 9>"$bin/.node-build.lock"
  flock 9
  # Smallest first: runc, the plugins and containerd are usable while the kubelet builds.
  [[ -x $runc_bin ]] || build_runc
  [[ -x $cni_dir/bridge ]] || build_cni
  [[ -x $containerd_dir/containerd ]] || build_containerd
  [[ -s $pause_dir/image.oci.tar ]] || build_pause
  [[ -x $kubelet_bin ]] || build_kubelet
  flock -u 9
fi

printf '%s\n' "$kubelet_bin" "$containerd_dir" "$runc_bin" "$cni_dir" "$pause_dir/image.oci.tar"
