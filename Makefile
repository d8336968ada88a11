# The two commands that matter: `make run` (a working relay with a demo desktop) and `make test` (every test).
SHELL := /bin/bash
CONFIG ?= Release
ARTIFACTS := $(CURDIR)/artifacts
RESULTS := $(ARTIFACTS)/test-results
# scripts/version.sh: X.Y.Z from the tag or CHANGELOG.md, -dev.N+gSHA between releases; `vnc-relay --version` says it.
VERSION := $(shell scripts/version.sh)
VERSION_FLAGS := -p:Version=$(shell scripts/version.sh --numeric) -p:InformationalVersion=$(VERSION)
DOTNET_FLAGS := -c $(CONFIG) --nologo -v quiet
# The node is published ReadyToRun (precompiled) for this machine's runtime: a node that replaces a dead one takes its
# sessions cold, and with JIT-only code its first 1,000 set-ups had a p99 3-6x that of the ReadyToRun build
# (docs/benchmarks.md, cold-node workload). Tiered compilation still re-JITs the hot path, so warm figures do not move.
RID := $(shell dotnet --info 2>/dev/null | awk '/^ *RID:/ {print $$2; exit}')
READY_TO_RUN := -r $(RID) --self-contained false -p:PublishReadyToRun=true
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

# Capability-specific targets (bench, cluster, console bundle) live in mk/*.mk.
-include mk/*.mk

.PHONY: all deps build run test test-results-clear test-unit test-integration bench cluster cluster-stop clean

all: build

## deps: install the system packages tests and demos need (idempotent)
deps:
	@scripts/install-deps.sh

## build: publish the node to artifacts/vnc-relay/vnc-relay and the simulator to artifacts/abiquo-simulator/
build:
	dotnet build OrleansVncCluster.sln $(DOTNET_FLAGS) $(VERSION_FLAGS)
	dotnet publish src/OrleansVncCluster.Relay/OrleansVncCluster.Relay.csproj $(DOTNET_FLAGS) $(VERSION_FLAGS) $(READY_TO_RUN) -o $(ARTIFACTS)/vnc-relay
	dotnet publish src/OrleansVncCluster.AbiquoSimulator/OrleansVncCluster.AbiquoSimulator.csproj $(DOTNET_FLAGS) $(VERSION_FLAGS) --no-build -o $(ARTIFACTS)/abiquo-simulator
	@echo "built $(ARTIFACTS)/vnc-relay/vnc-relay $(VERSION)"

## run: one node with embedded clustering, a demo Xvnc desktop and a token for it
run: deps build
	@scripts/run-demo.sh

## test: every test (unit and real-process integration); totals in artifacts/test-results/*.trx, at least .ci/minimum-tests of them
# The reports of a previous run go first, before the build: a build that fails must leave nothing to count.
# The two test projects run side by side, each writing its own report: run as one solution, both reports were named by
# one start time, and when the two started within the same microsecond one overwrote the other (a run of 1401 passed
# tests was counted as 289).
test: test-results-clear deps build
	@mkdir -p $(RESULTS)
	dotnet test --project tests/OrleansVncCluster.Tests -c $(CONFIG) --no-build --report-xunit-trx --report-xunit-trx-filename unit.trx --results-directory $(RESULTS) & unit=$$!; \
	dotnet test --project tests/OrleansVncCluster.IntegrationTests -c $(CONFIG) --no-build --report-xunit-trx --report-xunit-trx-filename integration.trx --results-directory $(RESULTS); integration=$$?; \
	wait $$unit; unit=$$?; [ $$unit -eq 0 ] && [ $$integration -eq 0 ]
	@scripts/test-summary.sh $(RESULTS)

test-results-clear:
	@rm -rf $(RESULTS)

test-unit: build
	dotnet test --project tests/OrleansVncCluster.Tests -c $(CONFIG) --no-build

test-integration: deps build
	dotnet test --project tests/OrleansVncCluster.IntegrationTests -c $(CONFIG) --no-build

clean:
	rm -rf $(ARTIFACTS) .run .cluster
	dotnet clean OrleansVncCluster.sln $(DOTNET_FLAGS)
