# `make dist`: release artifacts named by the version (scripts/dist.sh, scripts/build-deb.sh). `make test` builds them
# too, because its package test installs, upgrades, rolls back and purges the .deb on this machine.
.PHONY: dist

## dist: self-contained linux-x64 tarball and .deb in artifacts/dist/ (checked by lintian), named by scripts/version.sh
dist: deps
	@scripts/dist.sh

test: dist
