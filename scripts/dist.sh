#!/usr/bin/env bash
# `make dist`: self-contained linux-x64 release artifacts in artifacts/dist/, named by scripts/version.sh:
#   vnc-relay-VERSION-linux-x64.tar.gz   node + simulator (artifacts/), deploy/, haproxy/, docs/, README, CHANGELOG
#   vnc-relay_DEBVERSION_amd64.deb       the node as a Debian package (scripts/build-deb.sh), checked by lintian
#   SHA256SUMS
# linux-arm64 is not built: nothing here could run or test it (no arm64 machine or emulator in make test).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
version=$(scripts/version.sh)
deb_version=$(scripts/version.sh --deb)
numeric=$(scripts/version.sh --numeric)
dist="$root/artifacts/dist"
name="vnc-relay-$version-linux-x64"
stage="$dist/stage/$name"
rm -rf "$dist" && mkdir -p "$stage"

flags=(-c Release --nologo -v quiet -r linux-x64 --self-contained -p:Version="$numeric" -p:InformationalVersion="$version"
       -p:DebugType=none -p:GenerateDocumentationFile=false -p:SatelliteResourceLanguages=en)
dotnet publish src/OrleansVncCluster.Relay/OrleansVncCluster.Relay.csproj "${flags[@]}" -o "$stage/artifacts/vnc-relay"
dotnet publish src/OrleansVncCluster.AbiquoSimulator/OrleansVncCluster.AbiquoSimulator.csproj "${flags[@]}" -o "$stage/artifacts/abiquo-simulator"
[ "$("$stage/artifacts/vnc-relay/vnc-relay" --version)" = "vnc-relay $version" ] \
  || { echo "dist: the published node does not say 'vnc-relay $version'" >&2; exit 1; }

cp -a deploy haproxy "$stage/"
mkdir -p "$stage/docs" && cp -a docs/*.md docs/images "$stage/docs/"
cp README.md CHANGELOG.md "$stage/"
echo "$version" > "$stage/VERSION"
tar -C "$dist/stage" --owner=0 --group=0 --sort=name -czf "$dist/$name.tar.gz" "$name"

deb=$(scripts/build-deb.sh --tree "$stage/artifacts/vnc-relay" --version "$deb_version" --out "$dist")
rm -rf "$dist/stage"
if command -v lintian >/dev/null; then
  # Errors and warnings fail the build; the overrides in deploy/debian/lintian-overrides say why each is accepted.
  lintian --fail-on error,warning "$deb"
else
  echo "dist: lintian is not installed (make deps installs it): the .deb was not checked" >&2
fi
(cd "$dist" && sha256sum -- *.tar.gz *.deb > SHA256SUMS)
echo "dist: $version"
ls -l "$dist"
