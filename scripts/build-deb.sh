#!/usr/bin/env bash
# Builds the vnc-relay .deb with dpkg-deb from a published node (make dist passes the self-contained one).
#   scripts/build-deb.sh --tree DIR --version DEBIAN_VERSION --out DIR [--arch amd64|arm64] [--env-example FILE]
# --arch is the Debian architecture of the published tree (default amd64); the package is named by it.
# The package: the node in /opt/vnc-relay (the same path as deploy/install.sh and the docs use), the unit in
# /lib/systemd/system (Debian 12 keeps packaged units there), the system user and group from
# /usr/lib/sysusers.d/vnc-relay.conf, /etc/vnc-relay/vnc-relay.env as a conffile (so upgrades keep the operator's
# edits), docs in /usr/share/doc/vnc-relay. Maintainer scripts: deploy/debian/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tree="" version="" out="" arch=amd64 env_example="$root/deploy/env/vnc-relay.env.example"
while [ $# -gt 0 ]; do
  case "$1" in
    --tree) tree=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --env-example) env_example=$2; shift 2 ;;
    *) echo "build-deb: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -x "$tree/vnc-relay" ] || { echo "build-deb: --tree must be a published node (no $tree/vnc-relay)" >&2; exit 2; }
[ -n "$version" ] && [ -n "$out" ] || { echo "build-deb: --version and --out are required" >&2; exit 2; }
case "$arch" in amd64|arm64) ;; *) echo "build-deb: --arch must be amd64 or arm64, not '$arch'" >&2; exit 2 ;; esac

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
umask 022
pkg="$stage/vnc-relay"
mkdir -p "$pkg/DEBIAN" "$pkg/opt" "$pkg/lib/systemd/system" "$pkg/usr/lib/sysusers.d" "$pkg/etc/vnc-relay" \
  "$pkg/usr/share/doc/vnc-relay" "$pkg/usr/share/lintian/overrides"

cp -a "$tree" "$pkg/opt/vnc-relay"
# Only the programs are executable; managed assemblies and shared objects are loaded, not run.
find "$pkg/opt/vnc-relay" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
for program in vnc-relay createdump; do
  [ -f "$pkg/opt/vnc-relay/$program" ] && chmod 0755 "$pkg/opt/vnc-relay/$program"
done
# Debug symbols are for developers; they would double the package.
find "$pkg/opt/vnc-relay" -name '*.pdb' -delete -o -name '*.dbg' -delete
install -m 0644 "$root/docs/OPERATIONS.md" "$pkg/opt/vnc-relay/OPERATIONS.md"
install -m 0644 "$root/deploy/systemd/vnc-relay.service" "$pkg/lib/systemd/system/vnc-relay.service"
install -m 0644 "$root/deploy/sysusers.d/vnc-relay.conf" "$pkg/usr/lib/sysusers.d/vnc-relay.conf"
install -m 0644 "$env_example" "$pkg/etc/vnc-relay/vnc-relay.env"

doc="$pkg/usr/share/doc/vnc-relay"
install -m 0644 "$root/README.md" "$root/docs/OPERATIONS.md" "$root/docs/CONFIGURATION.md" "$doc/"
gzip -9n < "$root/CHANGELOG.md" > "$doc/CHANGELOG.md.gz"
# The version has no Debian revision (a native package), so changelog.gz must be in Debian's format: one entry that
# points at the project's own changelog, dated by the commit so that two builds of one commit are the same.
maintainer=$(sed -n 's/^Maintainer: //p' "$root/deploy/debian/control")
when=$(date -R -u -d "@$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)")
printf 'vnc-relay (%s) unstable; urgency=medium\n\n  * What changed: /usr/share/doc/vnc-relay/CHANGELOG.md.gz\n\n -- %s  %s\n' \
  "$version" "$maintainer" "$when" | gzip -9n > "$doc/changelog.gz"
install -m 0644 "$root/deploy/debian/copyright" "$doc/copyright"
install -m 0644 "$root/deploy/debian/lintian-overrides" "$pkg/usr/share/lintian/overrides/vnc-relay"

for script in postinst prerm postrm; do
  install -m 0755 "$root/deploy/debian/$script" "$pkg/DEBIAN/$script"
done
echo /etc/vnc-relay/vnc-relay.env > "$pkg/DEBIAN/conffiles"
# dpkg --verify vnc-relay checks the installed files against these.
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f ! -path ./etc/vnc-relay/vnc-relay.env -printf '%P\0' | sort -z | xargs -0 md5sum) > "$pkg/DEBIAN/md5sums"
installed_size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_size/" "$root/deploy/debian/control" > "$pkg/DEBIAN/control"

mkdir -p "$out"
deb="$out/vnc-relay_${version}_${arch}.deb"
# xz at level 6 takes minutes on 130 MB with 2 busy cores; gzip is what Debian accepts everywhere and takes seconds.
dpkg-deb --root-owner-group -Zgzip --build "$pkg" "$deb" >/dev/null
echo "$deb"
