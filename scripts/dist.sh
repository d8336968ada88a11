#!/usr/bin/env bash
# `make dist`: self-contained release artifacts in artifacts/dist/, named by scripts/version.sh, for linux-x64 and
# linux-arm64 (cross-built: the SDK publishes for either from here):
#   vnc-relay-VERSION-linux-x64.tar.gz     node + simulator (artifacts/), deploy/, haproxy/, docs/, README, CHANGELOG
#   vnc-relay-VERSION-linux-arm64.tar.gz   the same for 64-bit ARM hosts
#   vnc-relay_DEBVERSION_amd64.deb         the node as a Debian package (scripts/build-deb.sh), checked by lintian
#   vnc-relay_DEBVERSION_arm64.deb         the same for arm64
#   SHA256SUMS
# The x64 node is run (--version) before it is packed; nothing here can run arm64 code (no arm64 machine or emulator),
# so the arm64 node is checked to be an aarch64 executable and is otherwise the same build from the same sources.
# DIST_RIDS="linux-x64" limits the build to the given runtimes; DIST_DEB_RIDS (default: all of them) the .debs;
# DIST_READY_TO_RUN=false publishes the node without precompiled code.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
version=$(scripts/version.sh)
deb_version=$(scripts/version.sh --deb)
numeric=$(scripts/version.sh --numeric)
dist="$root/artifacts/dist"
rm -rf "$dist" && mkdir -p "$dist"

for rid in ${DIST_RIDS:-linux-x64 linux-arm64}; do
  case "$rid" in
    linux-x64) deb_arch=amd64 elf=x86-64 ;;
    linux-arm64) deb_arch=arm64 elf=aarch64 ;;
    *) echo "dist: unknown runtime '$rid' (linux-x64 or linux-arm64)" >&2; exit 2 ;;
  esac
  name="vnc-relay-$version-$rid"
  stage="$dist/stage/$name"
  mkdir -p "$stage"

  flags=(-c Release --nologo -v quiet -r "$rid" --self-contained -p:Version="$numeric" -p:InformationalVersion="$version"
         -p:DebugType=none -p:GenerateDocumentationFile=false -p:SatelliteResourceLanguages=en)
  # The node ReadyToRun, as `make build` makes it (the Makefile says why); DIST_READY_TO_RUN=false skips the precompile
  # (make test's package test, which installs the .deb and never measures it, saves about a minute of crossgen per runtime).
  dotnet publish src/OrleansVncCluster.Relay/OrleansVncCluster.Relay.csproj "${flags[@]}" -p:PublishReadyToRun="${DIST_READY_TO_RUN:-true}" -o "$stage/artifacts/vnc-relay"
  dotnet publish src/OrleansVncCluster.AbiquoSimulator/OrleansVncCluster.AbiquoSimulator.csproj "${flags[@]}" -o "$stage/artifacts/abiquo-simulator"
  for program in "$stage/artifacts/vnc-relay/vnc-relay" "$stage/artifacts/abiquo-simulator/abiquo-simulator"; do
    file -b "$program" | grep -q "ELF 64-bit.*$elf" \
      || { echo "dist: $program is not a $elf executable: $(file -b "$program")" >&2; exit 1; }
  done
  if [ "$rid" = linux-x64 ]; then
    [ "$("$stage/artifacts/vnc-relay/vnc-relay" --version)" = "vnc-relay $version" ] \
      || { echo "dist: the published node does not say 'vnc-relay $version'" >&2; exit 1; }
  fi

  cp -a deploy haproxy "$stage/"
  mkdir -p "$stage/docs" && cp -a docs/*.md docs/images "$stage/docs/"
  cp README.md CHANGELOG.md "$stage/"
  echo "$version" > "$stage/VERSION"
  tar -C "$dist/stage" --owner=0 --group=0 --sort=name -czf "$dist/$name.tar.gz" "$name"

  if [[ " ${DIST_DEB_RIDS:-$rid} " != *" $rid "* ]]; then
    rm -rf "$dist/stage"
    continue
  fi
  deb=$(scripts/build-deb.sh --tree "$stage/artifacts/vnc-relay" --version "$deb_version" --arch "$deb_arch" --out "$dist")
  rm -rf "$dist/stage"
  if command -v lintian >/dev/null; then
    # Errors and warnings fail the build; the overrides in deploy/debian/lintian-overrides say why each is accepted.
    lintian --fail-on error,warning "$deb"
  else
    echo "dist: lintian is not installed (make deps installs it): $deb was not checked" >&2
  fi
done
rmdir "$dist/stage" 2>/dev/null || true
(cd "$dist" && sha256sum -- *.tar.gz *.deb > SHA256SUMS)
echo "dist: $version"
ls -l "$dist"
