#!/usr/bin/env bash
# Installs what test/node/build.sh needs besides Go: a C compiler and libseccomp's headers, because
# runc is built with cgo (its nsenter is C) and with seccomp, so that pods asking for the
# RuntimeDefault seccomp profile (as the chart's restricted pods do) can run.
# Idempotent: exits at once when both are present. Safe to run beside other install scripts.
set -euo pipefail

if command -v gcc >/dev/null 2>&1 && command -v pkg-config >/dev/null 2>&1 \
  && pkg-config --exists libseccomp 2>/dev/null; then
  exit 0
fi

source "$(dirname "$0")/../lib/apt.sh"
apt_install gcc libc6-dev pkg-config libseccomp-dev
