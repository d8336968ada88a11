#!/usr/bin/env bash
# `make run`: one relay node with embedded (in-memory) clustering, a demo Xvnc desktop with a VNC password, and a
# token for it. Ctrl+C (SIGINT to the whole process group, as a terminal sends it), SIGTERM or SIGHUP stops everything
# it started; if the node does not become ready it says why, stops what it started and exits 1.
#   RELAY_PORT (default 6080), ADMIN_PORT (8082), AGENT_PORT (8081): the node's public, admin and HAProxy agent ports
#   RUN_DIR (default .run/): password, token file and logs
#   READY_TIMEOUT (default 60): seconds the node may take to answer /readyz
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run=${RUN_DIR:-$root/.run}
mkdir -p "$run"
relay_port=${RELAY_PORT:-6080}
admin_port=${ADMIN_PORT:-8082}
agent_port=${AGENT_PORT:-8081}
ready_timeout=${READY_TIMEOUT:-60}
relay="$root/artifacts/vnc-relay/vnc-relay"

fail() { echo "run-demo: $*" >&2; exit 1; }
[ -x "$relay" ] || fail "$relay is missing: run 'make build' (or 'make run', which builds first)"
for tool in Xvnc vncpasswd xsetroot curl md5sum python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run 'make deps' (apt-installs what the demo needs; as root or with sudo)"
done

port_taken() { ! python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", int(sys.argv[1]))); s.close()' "$1" 2>/dev/null; }
port_taken "$relay_port" && fail "port $relay_port is taken (another make run or a websockify?): stop it, or choose another: make run RELAY_PORT=6090"
port_taken "$admin_port" && fail "port $admin_port is taken: stop what listens there (ss -ltnp 'sport = :$admin_port'), or choose another: make run ADMIN_PORT=8092"
port_taken "$agent_port" && fail "port $agent_port is taken: stop what listens there (ss -ltnp 'sport = :$agent_port'), or choose another: make run AGENT_PORT=8091"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
display=""
for d in $(seq 20 99); do
  if [ ! -e "/tmp/.X11-unix/X$d" ] && [ ! -e "/tmp/.X$d-lock" ]; then display=$d; break; fi
done
[ -n "$display" ] || fail "no free X display between :20 and :99: remove stale /tmp/.X*-lock and /tmp/.X11-unix/X* files of X servers that no longer run"
vnc_port=$(free_port)

# A random 8-character VNC password kept in a file, never on a command line.
password_file="$run/vnc-password"
[ -s "$password_file" ] || (umask 077 && head -c 6 /dev/urandom | base64 | tr -d '/+=' | head -c 8 > "$password_file")
(umask 077 && vncpasswd -f < "$password_file" > "$run/vnc-passwd.bin")

# Children started with & by a non-interactive shell ignore SIGINT, so Ctrl+C reaches only this script: it must stop
# them itself, by PID, and wait until they are gone (a node drains for Relay__DrainBudget on SIGTERM, 1 s here).
pids=()
stopping=0
stop_all() {
  [ "$stopping" = 1 ] && return 0
  stopping=1
  trap '' INT TERM HUP   # a second Ctrl+C must not cut the clean-up short
  local pid alive
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'echo; echo "run-demo: stopping"; stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM HUP

Xvnc ":$display" -rfbport "$vnc_port" -localhost -geometry 1024x768 -depth 24 -SecurityTypes VncAuth \
  -PasswordFile "$run/vnc-passwd.bin" -AlwaysShared >"$run/xvnc.log" 2>&1 &
pids+=($!)
xvnc=$!
# Ready means its VNC port accepts connections: the X socket appears before the VNC listener, and the port picked
# above may have been taken meanwhile by another program (then Xvnc exits, and its log says so).
for _ in $(seq 1 150); do
  kill -0 "$xvnc" 2>/dev/null || break
  [ -e "/tmp/.X11-unix/X$display" ] && (exec 3<>"/dev/tcp/127.0.0.1/$vnc_port") 2>/dev/null && break
  sleep 0.2
done
(exec 3<>"/dev/tcp/127.0.0.1/$vnc_port") 2>/dev/null || fail "Xvnc :$display does not accept VNC connections on port $vnc_port; the end of its log ($run/xvnc.log):
$(tail -n 20 "$run/xvnc.log")"
DISPLAY=":$display" xsetroot -solid '#2a6f97' || true

token=$(printf '%s' "127.0.0.1:$vnc_port" | md5sum | cut -d' ' -f1)
printf '# written by make run\n%s: 127.0.0.1:%s\n' "$token" "$vnc_port" > "$run/tokens.cfg"

Relay__AdminListen="127.0.0.1:$admin_port" Relay__AgentListen="127.0.0.1:$agent_port" Relay__DrainBudget="${Relay__DrainBudget:-00:00:01}" \
  "$relay" "0.0.0.0:$relay_port" --target-config="$run/tokens.cfg" >"$run/vnc-relay.log" 2>&1 &
node=$!
pids+=("$node")
ready=0
for _ in $(seq 1 $((ready_timeout * 5))); do
  if ! kill -0 "$node" 2>/dev/null; then
    code=0; wait "$node" || code=$?
    fail "vnc-relay exited with code $code before it became ready; the end of its log ($run/vnc-relay.log):
$(tail -n 30 "$run/vnc-relay.log")"
  fi
  if curl -sf "http://127.0.0.1:$admin_port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.2
done
[ "$ready" = 1 ] || fail "vnc-relay did not answer http://127.0.0.1:$admin_port/readyz within ${ready_timeout} s; the end of its log ($run/vnc-relay.log):
$(tail -n 30 "$run/vnc-relay.log")"

cat <<MSG

  vnc-relay is running (embedded clustering, no Redis configured). Its log: $run/vnc-relay.log
  Demo desktop : Xvnc :$display on 127.0.0.1:$vnc_port, VNC password in $password_file
  Console token: $token   (md5 of "127.0.0.1:$vnc_port", the Abiquo scheme)
  Browser      : http://127.0.0.1:$relay_port/console?token=$token#password=$(cat "$password_file")
  WebSocket    : ws://127.0.0.1:$relay_port/websockify?token=$token
  Health       : http://127.0.0.1:$admin_port/healthz  http://127.0.0.1:$admin_port/readyz
  The browser shows an empty blue desktop: a bare X server with nothing running on it.
  Press Ctrl+C to stop everything this started.

MSG
# Poll rather than block in `wait "$node"`: Ctrl+C also kills Xvnc (an X server handles SIGINT itself), and a SIGCHLD
# arriving with the SIGINT could leave bash inside that wait with the INT trap pending until the node exits, which it
# never does on its own (a run of the test saw no "stopping" 30 s after SIGINT). A foreground sleep dies of the group's
# SIGINT, and bash then runs the trap at once.
while kill -0 "$node" 2>/dev/null; do sleep 0.2; done
code=0
wait "$node" || code=$?
[ "$stopping" = 1 ] || fail "vnc-relay stopped by itself (exit code $code); the end of its log ($run/vnc-relay.log):
$(tail -n 30 "$run/vnc-relay.log")"
