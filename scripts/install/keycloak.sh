#!/usr/bin/env bash
# Installs Keycloak (keycloak-quarkus-dist, a zip from Maven Central) for the Keycloak conformance and
# e2e tests (test/servers/keycloak.ts), unzipped into ${ROLLCALL_CACHE:-$HOME/.cache/rollcall}/keycloak-<version>,
# and builds it once for the test profile (dev mode, in-memory H2), so each test run starts without the
# build step. Idempotent: exits at once when the built install is there. Needs Java 17+ and mvn.
set -euo pipefail

VERSION="${KEYCLOAK_VERSION:-26.7.3}"
CACHE="${ROLLCALL_CACHE:-$HOME/.cache/rollcall}"
HOME_DIR="$CACHE/keycloak-$VERSION"
# Written last: its presence means the unzip and the build both finished.
DONE="$HOME_DIR/.rollcall-built"

if [ -f "$DONE" ]; then exit 0; fi

mkdir -p "$CACHE"
# Several test files may install at once: one install at a time.
exec 9>"$CACHE/.keycloak-install.lock"
flock 9
if [ -f "$DONE" ]; then exit 0; fi

command -v java >/dev/null || { echo "keycloak.sh: java is not installed (Keycloak $VERSION needs Java 17 or newer)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "keycloak.sh: mvn is not installed (it fetches keycloak-quarkus-dist)" >&2; exit 1; }

work=$(mktemp -d "$CACHE/.keycloak-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
mvn -q dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$VERSION:zip" -DoutputDirectory="$work"
unzip -q "$work/keycloak-quarkus-dist-$VERSION.zip" -d "$work"
rm -rf "$HOME_DIR"
mv "$work/keycloak-$VERSION" "$HOME_DIR"
# The tests start it with `start --optimized` (test/servers/keycloak.ts): the build (a Quarkus
# re-augmentation, ~1.5 min on 2 busy cores) happens here once, not on every start. dev-mem: an
# in-memory H2, so every started server begins empty and leaves nothing behind.
"$HOME_DIR/bin/kc.sh" build --db=dev-mem >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
rm -rf "$HOME_DIR/data"
touch "$DONE"
echo "keycloak $VERSION installed and built in $HOME_DIR"
