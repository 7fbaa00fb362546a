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
   sha256sum "${BASH_SOURCE[0]}" "$node_bin"
   libs | xargs sha256sum
   echo "$epoch") | sha256sum | cut -c1-16
}

out=${1:-}
if [[ -z $out ]]; then
  out=$cache/image/$version-$(inputs_hash)
  if [[ -z ${ROLLCALL_IMAGE_REBUILD:-} && -s $out/digest ]]; then
    log "cached: $out ($(cat "$out/digest"))"
    printf '%s\n' "$out"
    exit 0
  fi
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
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

# ---- layers: reproducible tars, gzip without name or time ----
blobs=$out/oci/blobs/sha256
rm -rf "$out/oci"
mkdir -p "$blobs"
put_blob() { # FILE -> prints its digest, moves it into blobs/
  local d
  d=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$blobs/$d"
  printf '%s' "$d"
}
layer_json=() diff_ids=()
for tree in runtime deps app; do
  tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --mode='u+rwX,go+rX,go-w' -C "${!tree}" -cf "$work/$tree.tar" .
  diff_ids+=("sha256:$(sha256sum "$work/$tree.tar" | cut -d' ' -f1)")
  gzip -n -6 "$work/$tree.tar"
  size=$(stat -c %s "$work/$tree.tar.gz")
  digest=$(put_blob "$work/$tree.tar.gz")
  layer_json+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$digest\",\"size\":$size}")
done

# ---- config, manifest, index ----
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
IFS=, 
"$node_bin" -e '
  const [created, version, diffIds] = process.argv.slice(1);
  process.stdout.write(JSON.stringify({
    created, architecture: "amd64", os: "linux",
    config: {
      User: "65532:65532", WorkingDir: "/app",
      Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production", "HOME=/tmp"],
      Entrypoint: ["/usr/local/bin/node", "/app/bin/rollcall.js"], Cmd: ["run"],
      Labels: {
        "org.opencontainers.image.title": "rollcall",
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.licenses": "Apache-2.0",
      },
    },
    rootfs: { type: "layers", diff_ids: diffIds.split(",") },
    history: ["runtime: node + shared libraries", "deps: npm ci --omit=dev", "app: bin, src, examples"]
      .map((comment) => ({ created, created_by: "scripts/image/build.sh", comment })),
  }));
' "$created" "$version" "${diff_ids[*]}" > "$work/config.json"
unset IFS
config_size=$(stat -c %s "$work/config.json")
config_digest=$(put_blob "$work/config.json")
layers=$(IFS=,; printf '%s' "${layer_json[*]}")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
  "$config_digest" "$config_size" "$layers" > "$work/manifest.json"
manifest_size=$(stat -c %s "$work/manifest.json")
manifest_digest=$(put_blob "$work/manifest.json")
ref=docker.io/rollcall/rollcall:$version
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest_digest" "$manifest_size" "$ref" "$version" > "$out/oci/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "$out/oci/oci-layout"
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$out/oci" -cf "$out/rollcall-image.oci.tar" .

# ---- the unpacked root filesystem, for runc/chroot ----
rm -rf "$out/rootfs"
mkdir -p "$out/rootfs"
for l in "${layer_json[@]}"; do
  d=${l#*sha256:}
  tar -xzf "$blobs/${d%%\"*}" -C "$out/rootfs" --numeric-owner
done

total=0
for l in "${layer_json[@]}"; do s=${l##*\"size\":}; total=$((total + ${s%\}})); done
printf 'sha256:%s\n' "$manifest_digest" > "$out/digest"
printf '%s\n' "$total" > "$out/size"
log "built $ref sha256:$manifest_digest: $((total / 1048576)) MiB compressed, in $((SECONDS - start)) s"
printf '%s\n' "$out"
