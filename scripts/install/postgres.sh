#!/usr/bin/env bash
# Installs the PostgreSQL 15 server binaries the tests start (test/servers/postgres.ts).
# Idempotent: exits at once when they are already there. Never starts a service.
set -euo pipefail

BIN=/usr/lib/postgresql/15/bin
if [[ -x "$BIN/postgres" && -x "$BIN/initdb" && -x "$BIN/pg_isready" ]] && id postgres >/dev/null 2>&1; then
  exit 0
fi

source "$(dirname "$0")/../lib/apt.sh"
apt_install postgresql-15 postgresql-client-15
