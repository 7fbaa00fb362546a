#!/usr/bin/env bash
# `npm test`: static checks, then every test project against real servers.
# Servers and tools are installed by the project's own scripts (idempotent; fast when present).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "installing test servers (slapd, PostgreSQL, SCIM, Keycloak, ...)"
for script in scripts/install/*.sh; do bash "$script"; done

step "building the test control plane and helm (cached outside the repo)"
bash test/controlplane/build.sh

step "building the test node (kubelet, containerd, runc, CNI plugins) and the image (cached outside the repo)"
bash test/node/build.sh
bash scripts/image/build.sh

step "type check, lint, formatting, CRDs and the chart values doc up to date"
npx tsc --noEmit
npx eslint .
# Prettier's layout (.prettierrc.json, 160 columns); `npm run format` writes it.
npx prettier --check --log-level warn "src/**/*.ts" "test/**/*.ts" "bench/**/*.ts" "scripts/**/*.ts"
node src/api/write-crds.ts --check
node scripts/chart/values-doc.ts --check

# Every vitest run has a wall-clock limit: a test that spins (vitest's own timeouts cannot stop a
# loop that never yields) fails the run loudly, naming the project, instead of hanging CI.
limited() {
  local name=$1 limit=$2 code=0
  shift 2
  timeout --kill-after=15 "$limit" "$@" || code=$?
  if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then
    printf '\n!! %s: still running after %s s; stopped. A test is stuck (a spin or a wait that never ends).\n' "$name" "$limit" >&2
  fi
  return "$code"
}

if [ "$#" -gt 0 ]; then
  step "tests: $*"
  limited "vitest $*" 1800 npx vitest run "$@"
  exit
fi
# One project after the other: the timing-sensitive end-to-end tests get the 2 cores to themselves.
results=$(mktemp -d)
declare -A limit=([unit]=600 [scale]=600 [conformance]=1200 [faults]=1500 [e2e]=1800)
for project in unit scale conformance faults e2e; do
  step "tests: $project (at most ${limit[$project]} s)"
  limited "project $project" "${limit[$project]}" \
    npx vitest run --project "$project" --reporter=default --reporter=json --outputFile.json="$results/$project.json"
  if [ "$project" = unit ]; then
    # The same unit tests with the wall clock 400 days ahead: none may depend on today's date.
    step "tests: unit, with the clock 400 days ahead (faketime)"
    limited "project unit under faketime +400d" 600 faketime -f "+400d" \
      npx vitest run --project unit --reporter=dot --reporter=json --outputFile.json="$results/unit-ahead.json"
  fi
done
# One plain closing line for the whole run.
node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const file of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(`${process.argv[1]}/${file}`, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`\ntests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results"
rm -rf "$results"
