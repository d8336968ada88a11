#!/usr/bin/env bash
# `make cluster` / `make cluster-stop`: a whole relay cluster on this machine, for demos, manual tests and the
# integration tests: redis-server (AOF), CLUSTER_NODES relay nodes on Redis clustering, the Abiquo simulator with one
# VM per demo Xvnc desktop (the nodes sync their tokens from it), and HAProxy with the shipped haproxy/haproxy.cfg.
#
#   scripts/cluster.sh start     start everything, write $CLUSTER_DIR/cluster.json, print the URLs
#   scripts/cluster.sh stop      stop exactly the PIDs cluster.json (or a failed start) recorded
#   scripts/cluster.sh status    say whether a cluster runs
#
# Settings (environment): CLUSTER_NODES [3], CLUSTER_DESKTOPS [2], CLUSTER_DIR [.cluster], CLUSTER_HTTP_PORT and
# CLUSTER_STATS_PORT [free ports], CLUSTER_BIND [127.0.0.1] (address of HAProxy's public listener),
# CLUSTER_DRAIN_BUDGET [00:00:05] (how long a stopping node lets live sessions go on).
# Secrets are generated into files of mode 600 under CLUSTER_DIR and reach the processes through files or the
# environment, never through a command line (ps shows those to every user).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${CLUSTER_DIR:-$root/.cluster}
state="$dir/cluster.json"
started="$dir/started.pids"
relay="$root/artifacts/vnc-relay/vnc-relay"
simulator="$root/artifacts/abiquo-simulator/abiquo-simulator"
haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)
python=/usr/bin/python3
[ -x "$python" ] || python=python3

say() { printf 'cluster: %s\n' "$*"; }
fail() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

# PIDs recorded by a start, in stop order: cluster.json's "stop" stage 1 (HAProxy and the nodes, which drain) before
# stage 2 (what they use); after a start that failed half-way, every PID it noted.
recorded_pids() {
  local stage=$1
  if [ -s "$state" ]; then
    "$python" -c 'import json,sys; [print(p["pid"]) for p in json.load(open(sys.argv[1]))["processes"] if p["stop"] == int(sys.argv[2])]' "$state" "$stage"
  elif [ -s "$started" ] && [ "$stage" = 1 ]; then
    cut -d' ' -f1 "$started"
  fi
}

# A recorded PID counts while it still runs the program it was started as (PIDs get reused) or is exiting (its exe
# link is gone already, its sockets may not be); a zombie has released everything and only waits to be reaped.
still_ours() {
  local pid=$1 exe actual stat
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ "${stat##*) }" == Z* ]] && return 1
  exe=$(grep -m1 "^$pid " "$started" 2>/dev/null | cut -d' ' -f2-) || true
  actual=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 0
  [ -z "$exe" ] || [ "$actual" = "$exe" ]
}

running_pids() {
  local pid
  for pid in $(recorded_pids 1) $(recorded_pids 2); do
    if still_ours "$pid"; then echo "$pid"; fi
  done
}

# SIGTERM, up to 30 s (a node drains for CLUSTER_DRAIN_BUDGET first), then SIGKILL; only PIDs still ours.
stop_pids() {
  local pids="" pid alive
  for pid in "$@"; do if still_ours "$pid"; then pids+=" $pid"; fi; done
  [ -n "$pids" ] || return 0
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 150); do
    alive=""
    for pid in $pids; do if still_ours "$pid"; then alive+=" $pid"; fi; done
    [ -z "$alive" ] && return 0
    sleep 0.2
  done
  for pid in $alive; do
    say "PID $pid did not stop within 30 s of SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  done
}

stop() {
  local count
  count=$(running_pids | wc -l)
  if [ "$count" -eq 0 ]; then
    say "no cluster running (nothing recorded in $dir)"
    rm -f "$state" "$started"
    return 0
  fi

  # shellcheck disable=SC2046 # one PID per word
  stop_pids $(recorded_pids 1)
  # shellcheck disable=SC2046
  stop_pids $(recorded_pids 2)
  rm -f "$state" "$started"
  say "stopped $count processes (logs kept in $dir/logs)"
}

status() {
  if [ -n "$(running_pids)" ]; then
    say "a cluster is running: $state"
  else
    say "no cluster running"
    return 1
  fi
}

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Starts a program in its own session (a Ctrl+C in the terminal that ran make does not reach it), output to a log,
# and records its PID with its executable so `stop` never signals a process that merely reuses the number.
launch() {
  local name=$1; shift
  setsid "$@" </dev/null >"$dir/logs/$name.log" 2>&1 &
  local pid=$!
  echo "$pid $(readlink -f "$(command -v "$1")")" >>"$started"
  launched_pid=$pid
}

wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${seconds} s waiting until $what (logs in $dir/logs)"
    sleep 0.2
  done
}

secret() { head -c 32 /dev/urandom | base64 | tr -d '/+=' | head -c "$1"; }

start() {
  if [ -n "$(running_pids)" ]; then
    say "a cluster is already running (see $state); stop it first with: make cluster-stop"
    return 0
  fi
  [ -x "$relay" ] && [ -x "$simulator" ] || fail "the published node or simulator is missing: run make build first"
  rm -f "$state" "$started"
  mkdir -p "$dir/logs" "$dir/redis"
  chmod 700 "$dir"
  trap 'echo "cluster: start failed; stopping what it started" >&2; stop >&2' EXIT

  local nodes=${CLUSTER_NODES:-3} desktops=${CLUSTER_DESKTOPS:-2} bind=${CLUSTER_BIND:-127.0.0.1}
  [[ "$nodes" =~ ^[1-9]$ ]] || fail "CLUSTER_NODES must be 1 to 9 (haproxy.cfg has relay1..relay9), not '$nodes'"
  [[ "$desktops" =~ ^[1-9][0-9]?$ ]] || fail "CLUSTER_DESKTOPS must be 1 to 99, not '$desktops'"

  # Secrets, each in its own file of mode 600.
  (
    umask 077
    secret 24 >"$dir/stats-password"
    secret 32 >"$dir/admin-token"
    secret 20 >"$dir/abiquo-password"
    secret 8 >"$dir/vnc-password"
    secret 24 >"$dir/redis-password"
    vncpasswd -f <"$dir/vnc-password" >"$dir/vnc-passwd.bin"
    printf 'Authorization: Bearer %s\n' "$(cat "$dir/admin-token")" >"$dir/admin-auth.header"
    local redis_port; redis_port=$(free_port)
    printf 'port %s\nbind 127.0.0.1\nsave ""\nappendonly yes\ndir %s\nrequirepass %s\n' \
      "$redis_port" "$dir/redis" "$(cat "$dir/redis-password")" >"$dir/redis.conf"
    printf '127.0.0.1:%s,password=%s,abortConnect=false\n' "$redis_port" "$(cat "$dir/redis-password")" >"$dir/redis-connection"
  )
  local redis_port; redis_port=$(sed -n 's/^port //p' "$dir/redis.conf")

  say "redis-server on 127.0.0.1:$redis_port (AOF in $dir/redis)"
  launch redis redis-server "$dir/redis.conf"
  local redis_pid=$launched_pid
  wait_for "redis-server answers PING" 20 env REDISCLI_AUTH="$(cat "$dir/redis-password")" redis-cli -p "$redis_port" ping

  # Demo desktops: Xvnc with a VNC password, each painted its own colour.
  local colours=('#2a6f97' '#8a3b12' '#2d6a4f' '#6a4c93' '#b5838d') desktop_ports=() desktop_displays=() desktop_pids=()
  local display=20 i
  for ((i = 0; i < desktops; i++)); do
    while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
    local port; port=$(free_port)
    launch "xvnc$display" Xvnc ":$display" -rfbport "$port" -localhost -geometry 1024x768 -depth 24 \
      -SecurityTypes VncAuth -PasswordFile "$dir/vnc-passwd.bin" -AlwaysShared
    desktop_pids+=("$launched_pid") desktop_ports+=("$port") desktop_displays+=("$display")
    wait_for "Xvnc :$display listens" 20 test -e "/tmp/.X11-unix/X$display"
    DISPLAY=":$display" xsetroot -solid "${colours[i % ${#colours[@]}]}" || true
    display=$((display + 1))
  done
  say "$desktops demo desktops (Xvnc) on ports ${desktop_ports[*]}"

  # The Abiquo simulator: one ON VM per desktop and nothing else, so every token it yields opens a real desktop.
  local sim_port; sim_port=$(free_port)
  local sim_args=(--urls "http://127.0.0.1:$sim_port" --vms 0 --enterprises 1 --password-file "$dir/abiquo-password")
  for port in "${desktop_ports[@]}"; do sim_args+=(--vnc-target "127.0.0.1:$port"); done
  launch abiquo-simulator "$simulator" "${sim_args[@]}"
  local sim_pid=$launched_pid
  wait_for "the Abiquo simulator answers" 30 curl -sf -o /dev/null -u "admin:$(cat "$dir/abiquo-password")" "http://127.0.0.1:$sim_port/_sim/state"
  say "Abiquo simulator on http://127.0.0.1:$sim_port/api"

  local http_port=${CLUSTER_HTTP_PORT:-$(free_port)} stats_port=${CLUSTER_STATS_PORT:-$(free_port)}
  local node_pids=() node_ports=() node_admin=() node_silo=() node_agent=()
  for ((i = 1; i <= nodes; i++)); do
    local public admin silo agent
    public=$(free_port) admin=$(free_port) silo=$(free_port) agent=$(free_port)
    launch "node$i" env \
      Relay__Listen="127.0.0.1:$public" Relay__AdminListen="127.0.0.1:$admin" Relay__AgentListen="127.0.0.1:$agent" \
      Relay__PublicUrl="http://$bind:$http_port" Relay__DrainBudget="${CLUSTER_DRAIN_BUDGET:-00:00:05}" \
      Orleans__SiloName="cluster-node$i" Orleans__ClusterId=vnc-relay-cluster Orleans__ServiceId=vnc-relay-cluster \
      Orleans__Endpoints__SiloPort="$silo" Orleans__Endpoints__AdvertisedIPAddress=127.0.0.1 \
      Redis__ConnectionStringFile="$dir/redis-connection" Admin__TokenFile="$dir/admin-token" \
      Abiquo__ApiUrl="http://127.0.0.1:$sim_port/api" Abiquo__User=admin Abiquo__PasswordFile="$dir/abiquo-password" \
      Sync__Interval=00:00:10 DOTNET_gcServer=0 \
      "$relay"
    # env execs the node, so this PID is the node itself; record the node's executable, not env's.
    sed -i "\$s|.*|$launched_pid $(readlink -f "$relay")|" "$started"
    node_pids+=("$launched_pid") node_ports+=("$public") node_admin+=("$admin") node_silo+=("$silo") node_agent+=("$agent")
  done
  for ((i = 1; i <= nodes; i++)); do
    wait_for "cluster-node$i answers /readyz (its silo joined the cluster)" 120 curl -sf -o /dev/null "http://127.0.0.1:${node_admin[i - 1]}/readyz"
  done
  say "$nodes relay nodes joined the cluster"

  # First sync now rather than after Sync:Interval, so the printed URLs work at once.
  wait_for "the token sync found the $desktops desktops" 60 \
    sh -c "curl -sf -X POST -H @'$dir/admin-auth.header' 'http://127.0.0.1:${node_admin[0]}/api/sync' | grep -q '\"tokens\":$desktops'"

  # HAProxy (master-worker: `kill -USR2 PID` reloads it). The password reaches it through the environment only.
  local haproxy_env=(HAPROXY_HTTP_BIND="$bind:$http_port" HAPROXY_LEGACY_BIND="" HAPROXY_ADMIN_BIND="127.0.0.1:$stats_port"
    HAPROXY_RUNTIME_SOCKET="$dir/haproxy.sock" HAPROXY_MAXCONN=2000)
  for ((i = 1; i <= nodes; i++)); do
    haproxy_env+=(RELAY${i}_ADDR="127.0.0.1:${node_ports[i - 1]}" RELAY${i}_AGENT_PORT="${node_agent[i - 1]}")
  done
  HAPROXY_STATS_PASSWORD=$(cat "$dir/stats-password") env "${haproxy_env[@]}" "$haproxy_bin" -c -q -f "$root/haproxy/haproxy.cfg" \
    || fail "haproxy -c rejected haproxy/haproxy.cfg"
  HAPROXY_STATS_PASSWORD=$(cat "$dir/stats-password") launch haproxy env "${haproxy_env[@]}" "$haproxy_bin" -W -db -f "$root/haproxy/haproxy.cfg"
  sed -i "\$s|.*|$launched_pid $(readlink -f "$haproxy_bin")|" "$started"
  local haproxy_pid=$launched_pid
  wait_for "HAProxy serves /console from a node" 30 curl -sf -o /dev/null "http://127.0.0.1:$http_port/console"

  write_state
  trap - EXIT
  print_summary
}

# cluster.json: what scripts and tests need. Values come in through the environment of python, not its arguments.
write_state() {
  local tokens=() port
  for port in "${desktop_ports[@]}"; do tokens+=("$(printf '%s' "127.0.0.1:$port" | md5sum | cut -d' ' -f1)"); done
  desktop_tokens="${tokens[*]}"
  (
    umask 077
    DIR="$dir" BIND="$bind" HTTP_PORT="$http_port" STATS_PORT="$stats_port" REDIS_PORT="$redis_port" REDIS_PID="$redis_pid" \
    SIM_PORT="$sim_port" SIM_PID="$sim_pid" HAPROXY_PID="$haproxy_pid" \
    NODE_PIDS="${node_pids[*]}" NODE_PORTS="${node_ports[*]}" NODE_ADMIN="${node_admin[*]}" NODE_SILO="${node_silo[*]}" NODE_AGENT="${node_agent[*]}" \
    DESKTOP_PIDS="${desktop_pids[*]}" DESKTOP_PORTS="${desktop_ports[*]}" DESKTOP_DISPLAYS="${desktop_displays[*]}" DESKTOP_TOKENS="$desktop_tokens" \
    "$python" - >"$state.tmp" <<'PY'
import json, os
e = os.environ
ints = lambda name: [int(v) for v in e[name].split()]
d = e["DIR"]
public = f"http://{e['BIND']}:{e['HTTP_PORT']}"
stats = f"http://127.0.0.1:{e['STATS_PORT']}/stats"
nodes = [
    {"name": f"cluster-node{i + 1}", "haproxyServer": f"relay{i + 1}", "pid": pid, "port": port, "adminPort": admin,
     "siloPort": silo, "agentPort": agent, "adminUrl": f"http://127.0.0.1:{admin}"}
    for i, (pid, port, admin, silo, agent) in enumerate(zip(ints("NODE_PIDS"), ints("NODE_PORTS"), ints("NODE_ADMIN"), ints("NODE_SILO"), ints("NODE_AGENT")))
]
desktops = [
    {"display": display, "pid": pid, "vncPort": port, "token": token,
     "consoleUrl": f"{public}/console?token={token}", "webSocketUrl": f"ws{public[4:]}/websockify?token={token}"}
    for pid, port, display, token in zip(ints("DESKTOP_PIDS"), ints("DESKTOP_PORTS"), ints("DESKTOP_DISPLAYS"), e["DESKTOP_TOKENS"].split())
]
state = {
    "directory": d,
    "publicUrl": public,
    "statsUrl": stats,
    "statsUser": "admin",
    "statsPasswordFile": f"{d}/stats-password",
    "adminTokenFile": f"{d}/admin-token",
    "vncPasswordFile": f"{d}/vnc-password",
    "haproxy": {"pid": int(e["HAPROXY_PID"]), "port": int(e["HTTP_PORT"]), "statsPort": int(e["STATS_PORT"]),
                "runtimeSocket": f"{d}/haproxy.sock"},
    "redis": {"pid": int(e["REDIS_PID"]), "port": int(e["REDIS_PORT"]), "connectionStringFile": f"{d}/redis-connection",
              "dataDirectory": f"{d}/redis"},
    "simulator": {"pid": int(e["SIM_PID"]), "apiUrl": f"http://127.0.0.1:{e['SIM_PORT']}/api", "user": "admin",
                  "passwordFile": f"{d}/abiquo-password"},
    "nodes": nodes,
    "desktops": desktops,
}
state["processes"] = (
    [{"name": "haproxy", "pid": state["haproxy"]["pid"], "stop": 1}]
    + [{"name": n["name"], "pid": n["pid"], "stop": 1} for n in nodes]
    + [{"name": "abiquo-simulator", "pid": state["simulator"]["pid"], "stop": 2}]
    + [{"name": f"xvnc:{x['display']}", "pid": x["pid"], "stop": 2} for x in desktops]
    + [{"name": "redis-server", "pid": state["redis"]["pid"], "stop": 2}]
)
print(json.dumps(state, indent=2))
PY
  )
  mv "$state.tmp" "$state"
}

print_summary() {
  local i=0 token
  echo
  echo "  The relay cluster is running: $nodes nodes behind HAProxy, Redis clustering, tokens synced from the Abiquo simulator."
  echo "  Consoles (VNC password in $dir/vnc-password; append #password=... to skip the prompt):"
  for token in $desktop_tokens; do
    echo "    desktop $((i + 1)): http://$bind:$http_port/console?token=$token"
    i=$((i + 1))
  done
  echo "  HAProxy stats: http://127.0.0.1:$stats_port/stats  (user admin, password in $dir/stats-password)"
  echo "  Node admin API: http://127.0.0.1:${node_admin[0]}/api/sessions  (Bearer token in $dir/admin-token)"
  echo "  Everything started: $state;  logs: $dir/logs;  stop with: make cluster-stop"
  echo
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) fail "usage: $0 start|stop|status" ;;
esac
