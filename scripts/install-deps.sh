#!/usr/bin/env bash
# Idempotent: installs only what is missing. Used by `make run`, `make test`, `make bench` and `make cluster`.
#   scripts/install-deps.sh            packages the node and its tests need
#   scripts/install-deps.sh bench      also the peers measured by `make bench`
set -euo pipefail

# lintian: `make dist` checks the .deb with it; systemd-container: the unit is tested under systemd-nspawn;
# prometheus: its promtool unit-tests deploy/prometheus/*.rules.yml.
want=(redis-server redis-sentinel haproxy curl tigervnc-standalone-server tigervnc-tools x11-xserver-utils chromium socat iproute2 systemd systemd-container xauth lintian prometheus)
if [ "${1:-}" = "bench" ]; then
  want+=(websockify python3-numpy x11-apps)
fi

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: run as root to apt-install ${missing[*]} (sudo is not installed): e.g. su -c 'make deps'" >&2; exit 1; }
    sudo_cmd="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all system packages present"
fi

command -v dotnet >/dev/null || { echo "install-deps: the .NET 10 SDK is required (dotnet not on PATH)" >&2; exit 1; }
command -v npm >/dev/null || { echo "install-deps: Node.js 20 with npm is required (npm not on PATH)" >&2; exit 1; }
