#!/usr/bin/env bash
# Builds the Debian package of the committed tree (HEAD): build/deb/callvault_<version>_<arch>.deb,
# checked by lintian. Optional; the README's two commands do not need it.
#
#   scripts/package.sh [--version V] [--g729] [--out DIR] [--no-lintian]
#
# --version V  Debian version (default <project version>+git<commits>.<hash>-1, so each commit
#              sorts after the previous one and `apt-get install` upgrades)
# --g729       link bcg729 for G.729 (GPL-3+: the package is then GPL-3+ as a whole)
# --out DIR    where the export, the build directory and the .deb go (default build/deb)
#
# Uncommitted changes are not packaged: the tree is exported with `git archive HEAD`. The export
# and its build directory are kept, and only files whose content changed are rewritten, so the
# next package recompiles only what changed. Compiles take /tmp/cv-build.lock (one build at a
# time on a shared machine) and two jobs (CALLVAULT_JOBS).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
version=""
g729=OFF
out="$root/build/deb"
lintian=1
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --g729) g729=ON; shift ;;
    --out) out="$2"; shift 2 ;;
    --no-lintian) lintian=0; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "package.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Build dependencies: the project's (scripts/install-deps.sh) plus the Debian packaging tools.
"$root/scripts/install-deps.sh"
tools=(debhelper dpkg-dev lintian)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "package.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

upstream="$(sed -n 's/^project(callvault VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")"
commits="$(git -C "$root" rev-list --count HEAD)"
hash="$(git -C "$root" rev-parse --short HEAD)"
if [ -z "$version" ]; then version="${upstream}+git${commits}.${hash}-1"; fi

# Export HEAD, then bring $src up to date file by file (unchanged files keep their mtime).
src="$out/src"
export_dir="$(mktemp -d)"
trap 'rm -rf "$export_dir"' EXIT
mkdir -p "$src"
git -C "$root" archive HEAD | tar -x -C "$export_dir"
(cd "$export_dir" && find . \( -type f -o -type l \) -print0) |
  while IFS= read -r -d '' f; do
    if [ -L "$export_dir/$f" ] || ! cmp -s "$export_dir/$f" "$src/$f"; then
      mkdir -p "$(dirname "$src/$f")"
      rm -f "$src/$f"
      cp -P --preserve=mode "$export_dir/$f" "$src/$f"
    fi
  done
(cd "$src" && find . \( -type f -o -type l \) -print0) |
  while IFS= read -r -d '' f; do
    [ -e "$export_dir/$f" ] || [ -L "$export_dir/$f" ] || rm -f "$src/$f"
  done

# This build's changelog entry on top of the committed one.
{
  printf 'callvault (%s) unstable; urgency=medium\n\n' "$version"
  printf '  * Built from commit %s.\n\n' "$hash"
  printf ' -- callvault developers <callvault-dev@example.org>  %s\n\n' "$(date -R)"
  cat "$export_dir/debian/changelog"
} > "$src/debian/changelog"

# Only this build's package in $out, so `apt-get install $out/callvault_*.deb` names one file.
rm -f "$out"/callvault_*.deb "$out"/callvault-dbgsym_*.deb "$out"/callvault_*.buildinfo \
  "$out"/callvault_*.changes
echo "package.sh: building callvault $version (G.729 $g729) in $src"
(cd "$src" && CALLVAULT_BUILD_DIR="$out/obj" CALLVAULT_G729="$g729" \
  dpkg-buildpackage -b -us -uc --no-pre-clean)

arch="$(dpkg-architecture -qDEB_HOST_ARCH)"
deb="$out/callvault_${version#*:}_${arch}.deb"
# Overrides, each with its reason: debian/callvault.lintian-overrides (shipped in the package).
if [ "$lintian" = 1 ]; then
  echo "package.sh: lintian $deb"
  lintian --fail-on error,warning --info "$deb"
fi
echo "package.sh: $deb"
