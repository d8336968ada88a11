#!/usr/bin/env bash
# `make bench`: the relay measured side by side with websockify, socat, HAProxy in front, and a direct connection.
# Results: artifacts/bench/results.{json,md}; the generated section of docs/benchmarks.md is replaced with them.
#   scripts/bench.sh                 the full run (about 22 minutes on 2 cores)
#   BENCH_QUICK=1 scripts/bench.sh   short runs to check the bench itself (figures not comparable; docs untouched)
#   (only a full run replaces docs/benchmarks.md's "Last results": vnc-bench refuses --doc for quick and subset runs)
#   BENCH_ARGS='--peers relay,socat --workloads setup' scripts/bench.sh    a subset
set -euo pipefail
cd "$(dirname "$0")/.."

# Paths relative to the repository root: the report quotes the command line as run.
relay=artifacts/vnc-relay/vnc-relay
simulator=artifacts/abiquo-simulator/abiquo-simulator
bench=tests/OrleansVncCluster.Benchmarks/bin/${CONFIG:-Release}/net10.0/vnc-bench

[ -x "$bench" ] || { echo "bench: $bench is missing; run 'make build' first" >&2; exit 1; }
[ -x "$relay" ] || { echo "bench: $relay is missing; run 'make build' first" >&2; exit 1; }
for tool in websockify socat haproxy redis-server; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed; run 'scripts/install-deps.sh bench'" >&2; exit 1; }
done

# 10,000 idle sessions need 20,000 descriptors in the relay alone: take the hard limit (raising it further needs
# CAP_SYS_RESOURCE, which containers usually lack; the report prints the limit it ran with).
ulimit -n "$(ulimit -Hn)"

args=(run --relay "$relay" --out artifacts/bench)
[ -x "$simulator" ] && args+=(--simulator "$simulator")
if [ "${BENCH_QUICK:-0}" = "1" ]; then
  args+=(--quick)
else
  args+=(--doc docs/benchmarks.md)
fi
# shellcheck disable=SC2206 # BENCH_ARGS is a list of words by design
[ -n "${BENCH_ARGS:-}" ] && args+=(${BENCH_ARGS})

echo "bench: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), open-file limit $(ulimit -n)"
exec "$bench" "${args[@]}"
