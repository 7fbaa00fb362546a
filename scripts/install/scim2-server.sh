#!/usr/bin/env bash
# Installs python-scim's scim2-server (the reference SCIM 2.0 server the scim conformance tests run
# against) into a virtual environment outside the repo. Idempotent: exits at once when installed.
set -euo pipefail

VERSION="${SCIM2_SERVER_VERSION:-0.8.3}"
CACHE="${ROLLCALL_CACHE:-$HOME/.cache/rollcall}"
VENV="$CACHE/venv-scim2"

installed() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip show scim2-server 2>/dev/null | grep -qx "Version: $VERSION"; }

if installed; then exit 0; fi

mkdir -p "$CACHE"
# Several test files may install at once: one pip at a time.
exec 9>/tmp/rollcall-pip.lock
flock 9
if installed; then exit 0; fi

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "scim2-server==$VERSION"
echo "scim2-server $VERSION installed in $VENV"
