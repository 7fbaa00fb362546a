#!/usr/bin/env bash
# `npm test`: static checks, then every test project against real servers.
# Servers and tools are installed by the project's own scripts (idempotent; fast when present).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "installing test servers (slapd, PostgreSQL, SCIM, ...)"
for script in scripts/install/*.sh; do bash "$script"; done

step "building the test control plane and helm (cached outside the repo)"
bash test/controlplane/build.sh

step "type check, lint, CRDs up to date"
npx tsc --noEmit
npx eslint .
node src/api/write-crds.ts --check

step "tests"
npx vitest run "$@"
