#!/usr/bin/env bash
# Installs Samba as an Active Directory domain controller (and Kerberos clients) for the
# Active Directory flavour of the LDAP conformance tests. Idempotent: exits at once when installed.
set -euo pipefail

if command -v samba >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 && command -v kinit >/dev/null 2>&1 && [ -d /usr/share/samba/setup/ad-schema ]; then
  exit 0
fi

source "$(dirname "$0")/../lib/apt.sh"
PACKAGES=(samba samba-ad-dc samba-ad-provision samba-dsdb-modules winbind krb5-user openssl)

# krb5-config asks for a realm and its servers; answer before it asks.
flock /tmp/rollcall-apt.lock debconf-set-selections <<'SEL'
krb5-config krb5-config/default_realm string EXAMPLE.TEST
krb5-config krb5-config/kerberos_servers string 127.0.0.1
krb5-config krb5-config/admin_server string 127.0.0.1
krb5-config krb5-config/add_servers_realm string EXAMPLE.TEST
krb5-config krb5-config/add_servers boolean false
krb5-config krb5-config/read_conf boolean true
SEL

apt_install "${PACKAGES[@]}"
