#!/usr/bin/env bash
# Installs python-scim's scim2-tester (a SCIM 2.0 compliance checker written by another project,
# from the same family as scim2-client and scim2-server) into a virtual environment outside the
# repo; test/conformance/scim-inbound-compliance.conformance.test.ts runs it against Rollcall's
# inbound endpoint. Idempotent: exits at once when installed.
set -euo pipefail

VERSION="${SCIM2_TESTER_VERSION:-0.5.2}"
# The client engine it drives the server with (as scripts/install/scim2-client.sh pins it).
CLIENT_VERSION="${SCIM2_CLIENT_VERSION:-0.13.2}"
CACHE="${ROLLCALL_CACHE:-$HOME/.cache/rollcall}"
VENV="$CACHE/venv-scim2-tester"

installed() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import sys, importlib.metadata as m, scim2_tester, httpx2; sys.exit(m.version('scim2-tester') != '$VERSION')" 2>/dev/null; }

if installed; then exit 0; fi

mkdir -p "$CACHE"
# Several test files may install at once: one pip at a time.
exec 9>/tmp/rollcall-pip.lock
flock 9
if installed; then exit 0; fi

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "scim2-tester==$VERSION" "scim2-client[httpx2]==$CLIENT_VERSION"
echo "scim2-tester $VERSION installed in $VENV"
