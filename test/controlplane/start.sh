#!/usr/bin/env bash
# Starts the test control plane in the foreground (building it first if needed).
#
#   test/controlplane/start.sh KUBECONFIG_OUT [--dir DIR] [--port N] [-- extra kube-apiserver flags]
#
# Prints "READY <kubeconfig path>" on stdout once the API server is ready; logs go to stderr.
# Ctrl-C / SIGTERM stop it cleanly.
set -euo pipefail
if [[ $# -lt 1 || $1 == -* ]]; then
  echo "usage: $0 KUBECONFIG_OUT [--dir DIR] [--port N] [-- extra kube-apiserver flags]" >&2
  exit 2
fi
kubeconfig=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
binary=$(bash "$here/build.sh" | sed -n 1p)
exec "$binary" --kubeconfig "$kubeconfig" "$@"
