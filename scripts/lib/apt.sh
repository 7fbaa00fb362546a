# Shared by scripts/install/*.sh: install Debian packages for the tests without starting services,
# one apt user at a time (install scripts may run side by side).

# Package installs must not start system services: the tests start their own servers.
forbid_service_starts() {
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
}

# apt_install PACKAGE...: refreshes the package lists only when they lack a package.
apt_install() {
  forbid_service_starts
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache show "$@" >/dev/null 2>&1; then
    flock /tmp/rollcall-apt.lock apt-get update -q
  fi
  flock /tmp/rollcall-apt.lock apt-get install -y -q --no-install-recommends "$@"
}
