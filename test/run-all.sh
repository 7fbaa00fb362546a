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

if [ "$#" -gt 0 ]; then
  step "tests: $*"
  npx vitest run "$@"
  exit
fi
# One project after the other: the timing-sensitive end-to-end tests get the 2 cores to themselves.
results=$(mktemp -d)
for project in unit conformance e2e; do
  step "tests: $project"
  npx vitest run --project "$project" --reporter=default --reporter=json --outputFile.json="$results/$project.json"
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
