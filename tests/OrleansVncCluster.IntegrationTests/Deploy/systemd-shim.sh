# Sourced by OperatorStepsTests before the documented commands run, on a machine where systemd is not PID 1.
# It stands in for `systemctl` and `journalctl` and nothing else, and does what systemd would do for our units,
# read from the installed unit file itself:
#   - User=/Group= (DynamicUser=yes without User=: nobody/nogroup), via setpriv;
#   - the specifier %d (the credentials directory) and ${NAME} variables in ExecStart=;
#   - EnvironmentFile= (a leading - makes it optional), Environment=, WorkingDirectory=, ExecStart=;
#   - LoadCredential=NAME:FILE from /etc/credstore, copied into a fresh directory owned by the service user,
#     mode 0400, passed as CREDENTIALS_DIRECTORY (missing ones skipped, as credstore look-ups are optional);
#   - JOURNAL_STREAM set and the output kept in $SHIM_DIR/UNIT.log, which `journalctl -u UNIT [-p LEVEL]` reads
#     back the way journald parses a stream: a leading <N> is the entry's priority (6 without one).
# Not emulated: the sandboxing (ProtectSystem=, SystemCallFilter=, ...), Type=notify, restarts. Those are checked by
# systemd-analyze verify/security (SystemdInstallTests) and the notify socket test (SystemdNotifyTests).
SHIM_DIR=${SHIM_DIR:?set SHIM_DIR}
mkdir -p "$SHIM_DIR"

_shim_unit_file() {
  local unit=${1%.service}.service
  for dir in /etc/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
    [ -f "$dir/$unit" ] && { echo "$dir/$unit"; return 0; }
  done
  echo "systemctl (shim): unit $unit not found" >&2
  return 1
}

_shim_key() { sed -n "s/^$2=//p" "$1"; }

_shim_start() {
  local name=${1%.service} file user group dynamic workdir exec envfile line cred
  file=$(_shim_unit_file "$1") || return 1
  [ -f "$SHIM_DIR/$name.pid" ] && kill -0 "$(cat "$SHIM_DIR/$name.pid")" 2>/dev/null && return 0
  user=$(_shim_key "$file" User | tail -n1); group=$(_shim_key "$file" Group | tail -n1)
  dynamic=$(_shim_key "$file" DynamicUser | tail -n1)
  if [ -z "$user" ]; then
    [ "$dynamic" = yes ] || { echo "systemctl (shim): $name runs as root; refusing" >&2; return 1; }
    user=nobody; group=nogroup
  fi
  group=${group:-$user}
  workdir=$(_shim_key "$file" WorkingDirectory | tail -n1)
  exec=$(_shim_key "$file" ExecStart | tail -n1)
  local creds="$SHIM_DIR/credentials/$name"
  rm -rf "$creds"; install -d -m 0500 -o "$user" -g "$group" "$creds"
  while IFS= read -r line; do
    cred=${line%%:*}
    [ -f "/etc/credstore/${line#*:}" ] || continue
    install -m 0400 -o "$user" -g "$group" "/etc/credstore/${line#*:}" "$creds/$cred"
  done < <(_shim_key "$file" LoadCredential)
  exec=${exec//%d/$creds}
  (
    envs=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "CREDENTIALS_DIRECTORY=$creds"
          "JOURNAL_STREAM=0:$RANDOM" "HOME=/" "USER=$user" "LOGNAME=$user" "INVOCATION_ID=shim")
    while IFS= read -r envfile; do
      local optional=0
      [ "${envfile#-}" != "$envfile" ] && { optional=1; envfile=${envfile#-}; }
      if [ -f "$envfile" ]; then
        while IFS= read -r line; do
          case "$line" in ''|'#'*|';'*) continue ;; esac
          envs+=("$line")
        done < "$envfile"
      elif [ "$optional" = 0 ]; then
        echo "systemctl (shim): EnvironmentFile $envfile is missing" >&2; exit 1
      fi
    done < <(_shim_key "$file" EnvironmentFile)
    # Environment= first, then the files, which override it (systemd.exec(5)).
    local fromunit=()
    while IFS= read -r line; do fromunit+=("$line"); done < <(_shim_key "$file" Environment)
    envs=("${envs[@]:0:8}" "${fromunit[@]}" "${envs[@]:8}")
    # ${NAME} in ExecStart= is replaced by the variable's value, as systemd does.
    for line in "${envs[@]}"; do exec=${exec//\$\{${line%%=*}\}/${line#*=}}; done
    cd "${workdir:-/}"
    # shellcheck disable=SC2086 # ExecStart= of our units is a path and plain words
    exec setsid env -i "${envs[@]}" setpriv --reuid="$user" --regid="$group" --init-groups --inh-caps=-all $exec \
      >>"$SHIM_DIR/$name.log" 2>&1 </dev/null
  ) &
  echo $! > "$SHIM_DIR/$name.pid"
}

_shim_stop() {
  local name=${1%.service} pid
  [ -f "$SHIM_DIR/$name.pid" ] || return 0
  pid=$(cat "$SHIM_DIR/$name.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 450); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$SHIM_DIR/$name.pid"
}

systemctl() {
  local verb="" now=0 units=() arg
  for arg in "$@"; do
    case "$arg" in
      --now) now=1 ;;
      --*) ;;
      *) if [ -z "$verb" ]; then verb=$arg; else units+=("$arg"); fi ;;
    esac
  done
  case "$verb" in
    daemon-reload) return 0 ;;
    enable) [ "$now" = 1 ] && for u in "${units[@]}"; do _shim_start "$u" || return 1; done; return 0 ;;
    start) for u in "${units[@]}"; do _shim_start "$u" || return 1; done ;;
    stop) for u in "${units[@]}"; do _shim_stop "$u"; done ;;
    restart) for u in "${units[@]}"; do _shim_stop "$u"; _shim_start "$u" || return 1; done ;;
    is-active) for u in "${units[@]}"; do [ -f "$SHIM_DIR/${u%.service}.pid" ] && kill -0 "$(cat "$SHIM_DIR/${u%.service}.pid")" 2>/dev/null || return 3; done; echo active ;;
    *) echo "systemctl (shim): $verb is not emulated" >&2; return 1 ;;
  esac
}

journalctl() {
  local unit="" level=7 lines=0
  while [ $# -gt 0 ]; do
    case "$1" in
      -u) unit=${2%.service}; shift 2 ;;
      -u*) unit=${1#-u}; unit=${unit%.service}; shift ;;
      -p) level=$2; shift 2 ;;
      -n) lines=$2; shift 2 ;;
      *) shift ;;
    esac
  done
  case "$level" in emerg) level=0 ;; alert) level=1 ;; crit) level=2 ;; err) level=3 ;; warning) level=4 ;; notice) level=5 ;; info) level=6 ;; debug) level=7 ;; esac
  [ -f "$SHIM_DIR/$unit.log" ] || return 0
  awk -v max="$level" '{ p = 6; m = $0; if (match($0, /^<[0-7]>/)) { p = substr($0, 2, 1) + 0; m = substr($0, 4) } if (p <= max) print m }' \
    "$SHIM_DIR/$unit.log" | if [ "$lines" -gt 0 ]; then tail -n "$lines"; else cat; fi
}

# Root runs the steps, for whom sudo changes nothing; the function also lets `sudo systemctl` reach the shim above.
sudo() { "$@"; }
