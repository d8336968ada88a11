#!/usr/bin/env bash
# The version of this checkout, for `make build`, `make dist` and `vnc-relay --version`.
#   tag vX.Y.Z on HEAD            -> X.Y.Z
#   N commits after tag vX.Y.Z    -> X.Y.Z-post.N+gSHA   (Debian: X.Y.Z+post.N+gSHA, above X.Y.Z)
#   no tag at all (a fresh repo)  -> X.Y.Z-dev.N+gSHA    with X.Y.Z the newest release heading of CHANGELOG.md
#                                    (Debian: X.Y.Z~dev.N+gSHA, below X.Y.Z, so the release upgrades it)
#   no git (a source tarball)     -> X.Y.Z-dev.0+unknown
# N counts commits, so every later commit of a branch gets a higher version. ".dirty" marks uncommitted changes.
#   scripts/version.sh [--deb | --numeric]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
form=${1:-}

base=$(sed -n 's/^## \[\([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\)\].*/\1/p' "$root/CHANGELOG.md" 2>/dev/null | head -n1)
base=${base:-0.0.0}
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  sha=$(git -C "$root" rev-parse --short=10 HEAD)
  dirty=""
  git -C "$root" diff --quiet HEAD -- 2>/dev/null || dirty=".dirty"
  if described=$(git -C "$root" describe --tags --long --match 'v[0-9]*' 2>/dev/null); then
    # vX.Y.Z-N-gSHA
    tag=${described%-*-g*}; rest=${described#"$tag"-}; count=${rest%%-*}
    base=${tag#v}
    if [ "$count" = 0 ] && [ -z "$dirty" ]; then semver=$base; else semver="$base-post.$count+g$sha$dirty"; fi
  else
    count=$(git -C "$root" rev-list --count HEAD)
    semver="$base-dev.$count+g$sha$dirty"
  fi
else
  semver="$base-dev.0+unknown"
fi

case "$form" in
  --deb) # Debian orders ~ before anything (a pre-release) and + after the end (a later build).
    deb=${semver/-dev./\~dev.}; deb=${deb/-post./+post.}; echo "$deb" ;;
  --numeric) echo "$base" ;;
  "") echo "$semver" ;;
  *) echo "usage: scripts/version.sh [--deb | --numeric]" >&2; exit 2 ;;
esac
