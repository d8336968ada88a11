#!/usr/bin/env bash
# `make run`: one relay node with embedded (in-memory) clustering, a demo Xvnc desktop with a VNC password, and a
# token for it. Everything it starts is stopped on Ctrl+C. Ports: RELAY_PORT (default 6080), ADMIN_PORT (8082).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run="$root/.run"
mkdir -p "$run"
relay_port=${RELAY_PORT:-6080}
admin_port=${ADMIN_PORT:-8082}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
display=""
for d in $(seq 20 99); do
  if [ ! -e "/tmp/.X11-unix/X$d" ] && [ ! -e "/tmp/.X$d-lock" ]; then display=$d; break; fi
done
[ -n "$display" ] || { echo "run-demo: no free X display" >&2; exit 1; }
vnc_port=$(free_port)

# A random 8-character VNC password kept in a file, never on a command line.
password_file="$run/vnc-password"
[ -s "$password_file" ] || head -c 6 /dev/urandom | base64 | tr -d '/+=' | head -c 8 > "$password_file"
vncpasswd -f < "$password_file" > "$run/vnc-passwd.bin"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

Xvnc ":$display" -rfbport "$vnc_port" -localhost -geometry 1024x768 -depth 24 -SecurityTypes VncAuth \
  -PasswordFile "$run/vnc-passwd.bin" -AlwaysShared >"$run/xvnc.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
DISPLAY=":$display" xsetroot -solid '#2a6f97' || true

token=$(printf '%s' "127.0.0.1:$vnc_port" | md5sum | cut -d' ' -f1)
printf '# written by make run\n%s: 127.0.0.1:%s\n' "$token" "$vnc_port" > "$run/tokens.cfg"

Relay__AdminListen="127.0.0.1:$admin_port" "$root/artifacts/vnc-relay/vnc-relay" "0.0.0.0:$relay_port" \
  --target-config="$run/tokens.cfg" &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$admin_port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done

cat <<MSG

  vnc-relay is running (embedded clustering, no Redis configured).
  Demo desktop : Xvnc :$display on 127.0.0.1:$vnc_port, VNC password in $password_file
  Console token: $token   (md5 of "127.0.0.1:$vnc_port", the Abiquo scheme)
  Browser      : http://127.0.0.1:$relay_port/console?token=$token#password=$(cat "$password_file")
  WebSocket    : ws://127.0.0.1:$relay_port/websockify?token=$token
  Health       : http://127.0.0.1:$admin_port/healthz  http://127.0.0.1:$admin_port/readyz
  Press Ctrl+C to stop everything this started.

MSG
wait "${pids[-1]}"
