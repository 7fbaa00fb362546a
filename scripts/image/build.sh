#!/usr/bin/env bash
# Builds Rollcall's container image without a daemon: an OCI image layout assembled by this script
# (tar + gzip + sha256), FROM scratch, carrying its own runtime.
#
#   scripts/image/build.sh [OUT_DIR]
#
# OUT_DIR (default: a cache directory keyed by a hash of every input, under
# ${ROLLCALL_CACHE:-$HOME/.cache/rollcall}/image/) receives:
#   oci/                   the OCI image layout (index.json, oci-layout, blobs/sha256/...)
#   rollcall-image.oci.tar that layout as one archive: `ctr images import`, `skopeo copy oci-archive:...`,
#                          `podman load`
#   digest                 the manifest digest (sha256:...), the image's identity
#   size                   the compressed size of the layers, in bytes
#   complete               written last: the build finished
#   rootfs/                the unpacked root filesystem (runc/chroot tests run it)
# stdout: OUT_DIR's absolute path. With the default OUT_DIR, a second run with the same inputs returns
# at once (ROLLCALL_IMAGE_REBUILD=1 forces a build).
#
# Why a script and not buildah: no base image can be pulled (no registry is reachable), so a
# Dockerfile's FROM is of no use; a script needs no storage driver, no extra Debian packages and no
# root, and reproducibility is by construction (fixed mtimes, sorted entries, numeric owners, gzip
# without names or times), where buildah 1.28 stamps times unless told otherwise at every step.
#
# The image (one layer each, rarely-changing first):
#   1. runtime   /usr/local/bin/node (the Node binary of the `node` npm package the lockfile pins,
#                debug sections stripped) + the shared libraries `ldd` lists; /etc/passwd and
#                /etc/group with the rollcall user (65532); /tmp (1777)
#   2. deps      /app/node_modules: `npm ci --omit=dev --ignore-scripts` in a staging directory
#   3. app       /app/bin, /app/src, /app/examples, package.json, LICENSE
# Runs as 65532:65532, entrypoint `node /app/bin/rollcall.js`, default command `run`.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${ROLLCALL_CACHE:-$HOME/.cache/rollcall}
log() { printf '[image/build] %s\n' "$*" >&2; }

node_bin=$repo/node_modules/node/bin/node
[[ -x $node_bin ]] || { log "no $node_bin: run npm ci first (the node devDependency is the image's runtime)"; exit 1; }
version=$(cd "$repo" && "$node_bin" -p 'require("./package.json").version')
epoch=${SOURCE_DATE_EPOCH:-0}
app_files=(bin src examples package.json package-lock.json LICENSE)

# Every input, hashed: the files copied, this script, the runtime binary and the libraries.
libs() { ldd "$node_bin" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u; }
inputs_hash() {
  (cd "$repo" && find "${app_files[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
   # Contents only: the hash must not depend on where the checkout is or how the script was called.
   cat "$repo/scripts/image/build.sh" "$repo/scripts/image/oci-layout.sh" "$node_bin" | sha256sum
   libs | while read -r lib; do sha256sum < "$lib"; done
   echo "$epoch") | sha256sum | cut -c1-16
}

out=${1:-}
if [[ -z $out ]]; then
  out=$cache/image/$version-$(inputs_hash)
  # One build at a time: a concurrent caller waits, then finds the image built.
  mkdir -p "$cache/image"
  exec 8>"$cache/image/.lock"
  flock 8
  if [[ -z ${ROLLCALL_IMAGE_REBUILD:-} && -e $out/complete ]]; then
    log "cached: $out ($(cat "$out/digest"))"
    printf '%s\n' "$out"
    exit 0
  fi
  # One cached image at a time: earlier inputs' images are superseded.
  find "$cache/image" -mindepth 1 -maxdepth 1 -type d ! -name "$(basename "$out")" -exec rm -rf {} + 2>/dev/null || true
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/complete"
start=$SECONDS
work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- the three root filesystem trees ----
runtime=$work/runtime deps=$work/deps app=$work/app
mkdir -p "$runtime/usr/local/bin" "$runtime/etc" "$runtime/tmp" "$deps/app" "$app/app"
cp "$node_bin" "$runtime/usr/local/bin/node"
strip --strip-debug "$runtime/usr/local/bin/node"
while read -r lib; do
  mkdir -p "$runtime$(dirname "$lib")"
  cp -L "$lib" "$runtime$lib"
done < <(libs)
printf 'root:x:0:0:root:/root:/sbin/nologin\nrollcall:x:65532:65532:rollcall:/tmp:/sbin/nologin\n' > "$runtime/etc/passwd"
printf 'root:x:0:\nrollcall:x:65532:\n' > "$runtime/etc/group"
chmod 1777 "$runtime/tmp"

log "staging production dependencies (npm ci --omit=dev)"
cp "$repo/package.json" "$repo/package-lock.json" "$deps/app/"
(cd "$deps/app" && PATH=$(dirname "$node_bin"):$PATH npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
rm -f "$deps/app/package.json" "$deps/app/package-lock.json"
(cd "$repo" && cp -r "${app_files[@]}" "$app/app/")

# ---- the OCI layout ----
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
history=
for comment in "runtime: node + shared libraries" "deps: npm ci --omit=dev" "app: bin, src, examples"; do
  history+="${history:+,}{\"created\":\"$created\",\"created_by\":\"scripts/image/build.sh\",\"comment\":\"$comment\"}"
done
config='{"created":"'$created'","architecture":"amd64","os":"linux","config":{"User":"65532:65532","WorkingDir":"/app","Env":["PATH=/usr/local/bin:/usr/bin:/bin","NODE_ENV=production","HOME=/tmp"],"Entrypoint":["/usr/local/bin/node","/app/bin/rollcall.js"],"Cmd":["run"],"Labels":{"org.opencontainers.image.title":"rollcall","org.opencontainers.image.version":"'$version'","org.opencontainers.image.licenses":"Apache-2.0"}},"history":['$history']}'
SOURCE_DATE_EPOCH=$epoch bash "$repo/scripts/image/oci-layout.sh" "$out" "docker.io/rollcall/rollcall:$version" "$config" \
  "$runtime" "$deps" "$app"
mv -f "$out/image.oci.tar" "$out/rollcall-image.oci.tar"

# ---- the unpacked root filesystem, for runc/chroot ----
rm -rf "$out/rootfs"
mkdir -p "$out/rootfs"
for tree in "$runtime" "$deps" "$app"; do cp -a "$tree/." "$out/rootfs/"; done
touch "$out/complete"
log "built docker.io/rollcall/rollcall:$version $(cat "$out/digest"): $(($(cat "$out/size") / 1048576)) MiB compressed, in $((SECONDS - start)) s"
printf '%s\n' "$out"
