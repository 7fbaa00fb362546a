#!/usr/bin/env bash
# Installs OpenLDAP's slapd and the ldap-utils clients for the LDAP conformance tests.
# Idempotent: exits at once when both are present. Safe to run beside other install scripts.
set -euo pipefail

if command -v slapd >/dev/null 2>&1 && command -v ldapwhoami >/dev/null 2>&1 && [ -x /usr/sbin/slapadd ]; then
  exit 0
fi

source "$(dirname "$0")/../lib/apt.sh"
apt_install slapd ldap-utils
