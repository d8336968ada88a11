# `make dist`: release artifacts named by the version (scripts/dist.sh, scripts/build-deb.sh). `make test` builds them
# too, because its package test installs, upgrades, rolls back and purges the .deb on this machine; it packs the arm64
# tarball but not the arm64 .deb (about 50 s of dpkg-deb and lintian that no test installs: `make dist` builds and
# lints it).
.PHONY: dist dist-for-tests

## dist: self-contained linux-x64 and linux-arm64 tarballs and .debs in artifacts/dist/ (checked by lintian), named by scripts/version.sh
# (DIST_RIDS=linux-x64 builds one runtime only, e.g. for a quick local check.)
dist: deps
	@scripts/dist.sh

dist-for-tests: deps
	@DIST_DEB_RIDS=linux-x64 DIST_READY_TO_RUN=false scripts/dist.sh

test: dist-for-tests
