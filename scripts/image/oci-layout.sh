#!/usr/bin/env bash
# Writes an OCI image layout from root filesystem trees, reproducibly: each tree becomes one layer
# (tar with sorted entries, fixed mtimes, numeric root owners, no access/change times; gzip without
# name or time), so the same trees and config give the same digest.
#
#   scripts/image/oci-layout.sh OUT_DIR REF CONFIG_JSON TREE_DIR...
#
# CONFIG_JSON: the image config without "rootfs" (filled here from the layers), one JSON object.
# REF: the full name containerd imports it as (io.containerd.image.name), e.g. docker.io/a/b:1.0;
# its tag is also the layout's org.opencontainers.image.ref.name.
# OUT_DIR receives oci/ (the layout), image.oci.tar (the same as one archive, for `ctr images
# import`, `skopeo copy oci-archive:`, `podman load`), digest (sha256:... of the manifest) and size
# (bytes of the compressed layers). SOURCE_DATE_EPOCH (default 0) is every file's mtime.
set -euo pipefail
[[ $# -ge 4 ]] || { echo "usage: $0 OUT_DIR REF CONFIG_JSON TREE_DIR..." >&2; exit 2; }
out=$1 ref=$2 config=$3
shift 3
epoch=${SOURCE_DATE_EPOCH:-0}
repro_tar() { tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime "$@"; }

rm -rf "$out/oci"
blobs=$out/oci/blobs/sha256
mkdir -p "$blobs"
work=$(mktemp -d "$out/.layout.XXXXXX")
trap 'rm -rf "$work"' EXIT
put_blob() { # FILE: moved into blobs/ under its digest, which is printed
  local d
  d=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$blobs/$d"
  printf '%s' "$d"
}

layers=() diff_ids=() total=0 n=0
for tree in "$@"; do
  n=$((n + 1))
  repro_tar --mode='u+rwX,go+rX,go-w' -C "$tree" -cf "$work/$n.tar" .
  diff_ids+=("\"sha256:$(sha256sum "$work/$n.tar" | cut -d' ' -f1)\"")
  gzip -n -6 "$work/$n.tar"
  size=$(stat -c %s "$work/$n.tar.gz")
  total=$((total + size))
  layers+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$(put_blob "$work/$n.tar.gz")\",\"size\":$size}")
done
join() { local IFS=,; printf '%s' "$*"; }

# The config with its rootfs: the object's closing brace replaced.
config_json=$(printf '%s' "$config" | sed -e 's/[[:space:]]*}[[:space:]]*$//')
printf '%s,"rootfs":{"type":"layers","diff_ids":[%s]}}' "$config_json" "$(join "${diff_ids[@]}")" > "$work/config.json"
config_size=$(stat -c %s "$work/config.json")
config_digest=$(put_blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
  "$config_digest" "$config_size" "$(join "${layers[@]}")" > "$work/manifest.json"
manifest_size=$(stat -c %s "$work/manifest.json")
manifest_digest=$(put_blob "$work/manifest.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest_digest" "$manifest_size" "$ref" "${ref##*:}" > "$out/oci/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "$out/oci/oci-layout"
repro_tar -C "$out/oci" -cf "$out/image.oci.tar" .
printf 'sha256:%s\n' "$manifest_digest" > "$out/digest"
printf '%s\n' "$total" > "$out/size"
