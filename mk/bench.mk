# `make bench`: measured side by side with websockify, socat and HAProxy; not part of `make test`
# (it takes about 22 minutes on 2 cores).

.PHONY: bench deps-bench

## deps-bench: the peers `make bench` measures (websockify, python3-numpy) on top of the usual packages
deps-bench:
	@scripts/install-deps.sh bench

## bench: throughput, set-up latency, idle sessions, token lookups, sync, failover (kill -9), silent host; results in artifacts/bench/ and docs/benchmarks.md
bench: deps-bench build
	@scripts/bench.sh
