# `make dist`: release artifacts named by the version (scripts/dist.sh, scripts/build-deb.sh). `make test` builds them
# too, because its package test installs, upgrades, rolls back and purges the .deb on this machine.
.PHONY: dist

## dist: self-contained linux-x64 and linux-arm64 tarballs and .debs in artifacts/dist/ (checked by lintian), named by scripts/version.sh
# (DIST_RIDS=linux-x64 builds one runtime only, e.g. for a quick local check.)
dist: deps
	@scripts/dist.sh

test: dist
