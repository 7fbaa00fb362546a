#!/usr/bin/env bash
# Installs the PostgreSQL 15 server binaries the tests start (test/servers/postgres.ts).
# Idempotent: exits at once when they are already there. Never starts a service.
set -euo pipefail

BIN=/usr/lib/postgresql/15/bin
if [[ -x "$BIN/postgres" && -x "$BIN/initdb" && -x "$BIN/pg_isready" ]] && id postgres >/dev/null 2>&1; then
  exit 0
fi

# Package installs must not start the cluster Debian would create: tests run their own servers.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
fi

export DEBIAN_FRONTEND=noninteractive
# Other install scripts may run at the same time: apt allows one user of its lock at a time.
flock /tmp/rollcall-apt.lock bash -c '
  set -euo pipefail
  install() { apt-get install -y -q --no-install-recommends postgresql-15 postgresql-client-15; }
  # Stale or missing package lists: refresh once and try again.
  install || { apt-get update -q && install; }
'
