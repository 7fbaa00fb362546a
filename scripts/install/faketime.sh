#!/usr/bin/env bash
# Installs libfaketime's `faketime`, so `npm test` also runs the unit tests with the clock a year
# ahead: no test may depend on the wall-clock date. Idempotent: exits at once when present.
set -euo pipefail

if command -v faketime >/dev/null 2>&1; then
  exit 0
fi

source "$(dirname "$0")/../lib/apt.sh"
apt_install faketime
