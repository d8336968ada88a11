# Deployment files (haproxy/, deploy/, k8s/). Their offline checks are tests (tests/OrleansVncCluster.IntegrationTests/Deploy/)
# and run in `make test`; `make deploy-check` runs the quick ones by hand, without building anything.
K8S_VALIDATE := tools/k8s-validate

.PHONY: k8s-validate-deps deploy-check

## k8s-validate-deps: npm ci for the manifest validator, only when node_modules is missing or older than the lock file
k8s-validate-deps: $(K8S_VALIDATE)/node_modules/.package-lock.json

$(K8S_VALIDATE)/node_modules/.package-lock.json: $(K8S_VALIDATE)/package-lock.json
	npm ci --prefix $(K8S_VALIDATE) --no-audit --no-fund

test test-integration: k8s-validate-deps

## deploy-check: haproxy -c in host and Kubernetes mode, and k8s/ against the Kubernetes schemas
deploy-check: k8s-validate-deps
	HAPROXY_STATS_PASSWORD=check haproxy -c -f haproxy/haproxy.cfg
	HAPROXY_STATS_PASSWORD=check KUBERNETES_SERVICE_HOST=check haproxy -c -f haproxy/haproxy.cfg
	node $(K8S_VALIDATE)/validate.mjs
