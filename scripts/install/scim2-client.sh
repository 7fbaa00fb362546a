#!/usr/bin/env bash
# Installs python-scim's scim2-client (a SCIM 2.0 client that is not ours, which the inbound SCIM tests
# drive Rollcall with) into a virtual environment outside the repo. Idempotent: exits at once when installed.
set -euo pipefail

VERSION="${SCIM2_CLIENT_VERSION:-0.13.2}"
CACHE="${ROLLCALL_CACHE:-$HOME/.cache/rollcall}"
VENV="$CACHE/venv-scim2-client"

installed() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip show scim2-client 2>/dev/null | grep -qx "Version: $VERSION" && "$VENV/bin/python" -c "import httpx2" 2>/dev/null; }

if installed; then exit 0; fi

mkdir -p "$CACHE"
# Several test files may install at once: one pip at a time.
exec 9>/tmp/rollcall-pip.lock
flock 9
if installed; then exit 0; fi

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "scim2-client[httpx2]==$VERSION"
echo "scim2-client $VERSION installed in $VENV"
