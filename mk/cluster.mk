# `make cluster`: Redis (AOF), CLUSTER_NODES relay nodes, the Abiquo simulator with demo Xvnc desktops and HAProxy with
# haproxy/haproxy.cfg, all on this machine; what it started is in .cluster/cluster.json. Logic: scripts/cluster.sh.
CLUSTER_NODES ?= 3
export CLUSTER_NODES

.PHONY: cluster cluster-stop cluster-status

## cluster: start the demo cluster in the background and print its console and stats URLs (CLUSTER_NODES=N, default 3)
cluster: deps build
	@scripts/cluster.sh start

## cluster-stop: stop exactly the processes .cluster/cluster.json records
cluster-stop:
	@scripts/cluster.sh stop

## cluster-status: say whether the cluster of .cluster/cluster.json runs
cluster-status:
	@scripts/cluster.sh status
