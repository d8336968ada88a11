#!/usr/bin/env bash
# Puts a published relay node (and optionally the simulator and the HAProxy pieces) in place on a systemd host.
# Idempotent: binaries, units and the shipped HAProxy config are replaced; environment files and secrets that
# already exist are never touched. The tree it replaces is kept as /opt/vnc-relay.previous (and
# /opt/abiquo-simulator.previous) for --rollback. Starts nothing unless --start is given.
#
#   deploy/install.sh [--root DIR] [--artifacts DIR] [--no-node] [--simulator] [--haproxy] [--enable] [--start]
#   deploy/install.sh --rollback [--root DIR] [--start]
#
#   --root DIR       install below DIR instead of / (also: DESTDIR=DIR); systemctl is not called then
#   --artifacts DIR  where `make build` published vnc-relay/ and abiquo-simulator/ (default: <repo>/artifacts)
#   --no-node        skip the relay node (a host that only runs HAProxy)
#   --simulator      also install the Abiquo simulator and its unit
#   --haproxy        also install haproxy/haproxy.cfg as /etc/haproxy/vnc-relay.cfg, the drop-in for Debian's
#                    haproxy.service and /etc/haproxy/vnc-relay.env (with a generated stats password)
#   --enable         systemctl enable the installed units
#   --start          systemctl (re)start them (a running node drains first: SIGTERM)
#   --rollback       swap the installed trees with the kept .previous ones (run it again to roll forward);
#                    configuration and secrets are not touched
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
root="${DESTDIR:-/}"
artifacts="$repo/artifacts"
node=1 simulator=0 haproxy=0 enable=0 start=0 rollback=0

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    --root=*) root="${1#--root=}"; shift ;;
    --artifacts) artifacts="${2:?--artifacts needs a directory}"; shift 2 ;;
    --artifacts=*) artifacts="${1#--artifacts=}"; shift ;;
    --no-node) node=0; shift ;;
    --simulator) simulator=1; shift ;;
    --haproxy) haproxy=1; shift ;;
    --enable) enable=1; shift ;;
    --start) start=1; shift ;;
    --rollback) rollback=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

root="${root%/}"
[ "$node" = 1 ] || [ "$simulator" = 1 ] || [ "$haproxy" = 1 ] || { echo "install.sh: nothing to install: --no-node needs --simulator or --haproxy" >&2; exit 2; }
say() { echo "install.sh: $*"; }
fail() { echo "install.sh: $*" >&2; exit 1; }

# Only the node answers --version (the simulator would take it for a setting and start).
version_of() { case "$1" in */vnc-relay) "$1" --version 2>/dev/null | head -n1 || echo "an unknown version" ;; *) echo "its previous version" ;; esac; }

# Replaces a published folder as a whole: a running node keeps the files it mapped (the old inodes) and sees
# the new version after its restart, never a half-copied mix. The replaced tree stays as TARGET.previous.
install_tree() {
  local source="$1" target="$2" executable="$3"
  [ -x "$source/$executable" ] || fail "$source/$executable is missing: run 'make build' first (or pass --artifacts DIR)"
  mkdir -p "$(dirname "$target")"
  rm -rf "$target.new"
  cp -a "$source" "$target.new"
  chmod -R u=rwX,go=rX "$target.new"
  if [ -d "$target" ]; then
    rm -rf "$target.previous"
    mv "$target" "$target.previous"
    say "kept the previous tree as $target.previous ($(version_of "$target.previous/$executable")) for --rollback"
  fi
  mv "$target.new" "$target"
  say "installed $target/$executable ($(version_of "$target/$executable"))"
}

# --rollback: TARGET and TARGET.previous change places, so a second rollback rolls forward again.
rollback_tree() {
  local target="$1" executable="$2"
  [ -d "$target" ] && [ -d "$target.previous" ] || return 0
  rm -rf "$target.rollback"
  mv "$target" "$target.rollback"
  mv "$target.previous" "$target"
  mv "$target.rollback" "$target.previous"
  say "rolled $target back to $(version_of "$target/$executable"); $(version_of "$target.previous/$executable") is now $target.previous"
}

# The node's static system user and group (deploy/sysusers.d/vnc-relay.conf), as the .deb creates them.
create_account() {
  install -D -m 0644 "$here/sysusers.d/vnc-relay.conf" "$root/etc/sysusers.d/vnc-relay.conf"
  command -v systemd-sysusers >/dev/null || fail "systemd-sysusers is missing (package systemd): it creates the vnc-relay user"
  mkdir -p "$root/etc"
  if [ -n "$root" ]; then
    systemd-sysusers --root="$root" "$root/etc/sysusers.d/vnc-relay.conf" >/dev/null 2>&1 \
      || fail "systemd-sysusers --root=$root could not create the vnc-relay user and group"
  else
    systemd-sysusers /etc/sysusers.d/vnc-relay.conf >/dev/null 2>&1 || fail "systemd-sysusers could not create the vnc-relay user and group"
  fi
  # Plain shell, no awk: a minimal root (a container's fresh /etc) may lack the awk alternative.
  vnc_gid=""
  while IFS=: read -r name _ gid _; do
    if [ "$name" = vnc-relay ]; then vnc_gid=$gid; fi
  done < "$root/etc/group"
  [ -n "$vnc_gid" ] || fail "systemd-sysusers did not create the group vnc-relay in $root/etc/group"
  say "system user and group vnc-relay (gid $vnc_gid)"
}

install_file() { # mode source target
  install -D -m "$1" "$2" "$3"
  say "installed $3"
}

# Environment files and secrets belong to the operator once they exist.
install_once() { # mode source target
  if [ -e "$3" ]; then
    say "kept existing $3"
  else
    install -D -m "$1" "$2" "$3"
    say "created $3 from $(basename "$2")"
  fi
}

random_secret() { head -c 64 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c 32; }

if [ "$rollback" = 1 ]; then
  [ -d "$root/opt/vnc-relay.previous" ] || [ -d "$root/opt/abiquo-simulator.previous" ] \
    || fail "no $root/opt/vnc-relay.previous to roll back to: install.sh keeps one from the second install on"
  rollback_tree "$root/opt/vnc-relay" vnc-relay
  rollback_tree "$root/opt/abiquo-simulator" abiquo-simulator
  if [ -z "$root" ] && [ -d /run/systemd/system ] && [ "$start" = 1 ]; then
    systemctl restart vnc-relay.service
  else
    say "restart the node to run it: systemctl restart vnc-relay (a running node drains first)"
  fi
  exit 0
fi

units=()
if [ "$node" = 1 ]; then
  units+=(vnc-relay.service)
  create_account
  install_tree "$artifacts/vnc-relay" "$root/opt/vnc-relay" vnc-relay
  [ -f "$repo/docs/OPERATIONS.md" ] && install_file 0644 "$repo/docs/OPERATIONS.md" "$root/opt/vnc-relay/OPERATIONS.md"
  install_file 0644 "$here/systemd/vnc-relay.service" "$root/etc/systemd/system/vnc-relay.service"
  # Readable by the node's group: it reads files here while it runs (ticket secret, token files).
  install -d -m 0750 -o 0 -g "$vnc_gid" "$root/etc/vnc-relay"
  install_once 0644 "$here/env/vnc-relay.env.example" "$root/etc/vnc-relay/vnc-relay.env"

  # The ticket secret the environment file names (Tickets__SecretFile): readable by the node's group, re-read on rotation.
  ticket_secret="$root/etc/vnc-relay/ticket-secret"
  if [ -e "$ticket_secret" ]; then
    say "kept existing $ticket_secret"
  else
    (umask 027 && head -c 64 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c 44 > "$ticket_secret")
    chgrp "$vnc_gid" "$ticket_secret"
    say "generated the console ticket secret in $ticket_secret"
  fi

  # systemd's credential store: LoadCredential=admin-token:vnc-relay.admin-token reads from here.
  install -d -m 0700 "$root/etc/credstore"
  token="$root/etc/credstore/vnc-relay.admin-token"
  if [ -e "$token" ]; then
    say "kept existing $token"
  else
    (umask 077 && random_secret > "$token")
    say "generated the admin API token in $token"
  fi
fi

if [ "$simulator" = 1 ]; then
  units+=(abiquo-simulator.service)
  install_tree "$artifacts/abiquo-simulator" "$root/opt/abiquo-simulator" abiquo-simulator
  install_file 0644 "$here/systemd/abiquo-simulator.service" "$root/etc/systemd/system/abiquo-simulator.service"
  install_once 0644 "$here/env/abiquo-simulator.env.example" "$root/etc/vnc-relay/abiquo-simulator.env"
fi

if [ "$haproxy" = 1 ]; then
  units+=(haproxy.service)
  install_file 0644 "$repo/haproxy/haproxy.cfg" "$root/etc/haproxy/vnc-relay.cfg"
  install_file 0644 "$here/systemd/haproxy.service.d/vnc-relay.conf" "$root/etc/systemd/system/haproxy.service.d/vnc-relay.conf"
  envfile="$root/etc/haproxy/vnc-relay.env"
  if [ -e "$envfile" ]; then
    say "kept existing $envfile"
  else
    (umask 077 && sed "s|^HAPROXY_STATS_PASSWORD=\$|HAPROXY_STATS_PASSWORD=$(random_secret)|" "$here/env/haproxy.env.example" > "$envfile")
    say "created $envfile with a generated stats password (HAPROXY_STATS_PASSWORD; user admin)"
    say "edit RELAYn_ADDR there to your nodes' addresses"
  fi
  # The servers' runtime state a reload hands to the new worker; a file with only the format version to begin with
  # (HAProxy warns about a missing or empty one).
  state="$root/var/lib/haproxy/server-state"
  if [ ! -e "$state" ]; then
    install -d -m 0755 "$(dirname "$state")"
    printf '1\n' > "$state"
    say "created $state"
  fi
  if command -v haproxy >/dev/null; then
    # The same check Debian's unit runs before every reload, with the environment the unit will have.
    (set -a && . "$envfile" && HAPROXY_STATE_FILE="$state" && haproxy -c -q -f "$root/etc/haproxy/vnc-relay.cfg") \
      || fail "haproxy -c rejected $root/etc/haproxy/vnc-relay.cfg with $envfile"
    say "haproxy -c accepts $root/etc/haproxy/vnc-relay.cfg"
  fi
fi

if [ -n "$root" ]; then
  say "installed below $root; systemctl not called"
  exit 0
fi

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  [ "$enable" = 1 ] && systemctl enable "${units[@]}"
  [ "$start" = 1 ] && systemctl restart "${units[@]}"
  say "units: ${units[*]} (start with: systemctl start ${units[*]})"
else
  [ "$enable" = 1 ] || [ "$start" = 1 ] && fail "systemd is not running here: cannot --enable or --start"
  say "systemd is not running here; units are in place for the next boot"
fi
