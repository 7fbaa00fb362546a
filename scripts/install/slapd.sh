#!/usr/bin/env bash
# Installs OpenLDAP's slapd and the ldap-utils clients for the LDAP conformance tests.
# Idempotent: exits at once when both are present. Safe to run beside other install scripts.
set -euo pipefail

if command -v slapd >/dev/null 2>&1 && command -v ldapwhoami >/dev/null 2>&1 && [ -x /usr/sbin/slapadd ]; then
  exit 0
fi

# Package installs must not start system services: the tests start their own slapd.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
fi

export DEBIAN_FRONTEND=noninteractive
PACKAGES=(slapd ldap-utils)

# Other install scripts run at the same time; apt's own lock fails fast instead of waiting.
if ! apt-cache show "${PACKAGES[@]}" >/dev/null 2>&1; then
  flock /tmp/rollcall-apt.lock apt-get update
fi
flock /tmp/rollcall-apt.lock apt-get install -y --no-install-recommends "${PACKAGES[@]}"
