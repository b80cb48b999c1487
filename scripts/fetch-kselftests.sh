#!/usr/bin/env bash
# Fetch the kernel's BPF selftests (the CO-RE test programs, their target
# BTFs and libbpf's table of expected outcomes) from Debian's
# linux-source-6.12 binary package: a .deb holding the kernel's source
# tarball (Debian's source packages are not reachable from here).
#
# Usage: scripts/fetch-kselftests.sh [DIR]   (DIR defaults to <repo>/target/kselftests)
#
# Result (DIR):
#   linux-source-6.12/tools/testing/selftests/bpf   the selftests (progs/, prog_tests/, headers)
#   linux-source-6.12/tools/include                 the headers they include from tools/
#   COMPLETE     key=value record (package, version, deb_sha256); written last
# The last line on stdout is the selftests' directory.
#
# Only those two directories are taken from the tarball, streamed
# (dpkg-deb | tar | tar -xJ): nothing else of the 1.4 GB tree is written,
# and the .deb is removed afterwards. Idempotent: when DIR/COMPLETE records
# the version apt resolves now, nothing is downloaded; when apt cannot
# resolve the package (no network, no lists) an existing DIR is used as is.
set -euo pipefail

START=$SECONDS
log() { printf '[fetch-kselftests %3ds] %s\n' $((SECONDS - START)) "$*" >&2; }
die() { printf '[fetch-kselftests] error: %s\n' "$*" >&2; exit 1; }

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
DIR=${1:-$REPO_ROOT/target/kselftests}
DIR=${DIR%/}
[[ -n $DIR ]] || die "refusing to use / as the directory"
mkdir -p -- "$(dirname -- "$DIR")"
DIR=$(cd -- "$(dirname -- "$DIR")" && pwd)/$(basename -- "$DIR")

PACKAGE=linux-source-6.12
TREE=linux-source-6.12
SELFTESTS=$DIR/$TREE/tools/testing/selftests/bpf
export DEBIAN_FRONTEND=noninteractive

version_of() { # the candidate version apt resolves, or nothing
    apt-cache show --no-all-versions "$PACKAGE" 2>/dev/null \
        | awk '$1 == "Version:" { print $2; exit }' || true
}
VERSION=$(version_of)
if [[ -z $VERSION ]]; then
    if [[ -f $DIR/COMPLETE ]]; then
        log "apt cannot resolve $PACKAGE; using $(sed -n 's/^version=//p' "$DIR/COMPLETE") from $DIR"
        echo "$SELFTESTS"
        exit 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "no apt-get: cannot fetch $PACKAGE"
    log "apt-get update"
    apt-get update -qq >/dev/null || die "apt-get update failed"
    VERSION=$(version_of)
    [[ -n $VERSION ]] || die "apt has no candidate for $PACKAGE; check the apt sources"
fi

if [[ -f $DIR/COMPLETE ]] && grep -qxF "version=$VERSION" "$DIR/COMPLETE"; then
    log "$DIR is complete for $PACKAGE $VERSION"
    echo "$SELFTESTS"
    exit 0
fi

for tool in apt-get dpkg-deb tar xz sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
TMP=$DIR.tmp.$$
trap 'rm -rf -- "$TMP"' EXIT
rm -rf -- "$TMP"
mkdir -p -- "$TMP/deb" "$TMP/out"
log "apt-get download $PACKAGE=$VERSION"
(cd "$TMP/deb" && apt-get download -qq -o APT::Sandbox::User=root "$PACKAGE=$VERSION" >/dev/null) \
    || die "apt-get download $PACKAGE=$VERSION failed"
deb=$(find "$TMP/deb" -maxdepth 1 -name '*.deb' | head -n1)
[[ -n $deb ]] || die "apt-get download left no .deb"
sha=$(sha256sum "$deb" | cut -d' ' -f1)
log "extracting tools/testing/selftests/bpf and tools/include from $(basename -- "$deb")"
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$TREE.tar.xz" \
    | tar -xJf - -C "$TMP/out" --wildcards \
        "$TREE/tools/testing/selftests/bpf/*" "$TREE/tools/include/*" \
    || die "extracting from $(basename -- "$deb") failed"
[[ -f $TMP/out/$TREE/tools/testing/selftests/bpf/prog_tests/core_reloc.c ]] \
    || die "no tools/testing/selftests/bpf/prog_tests/core_reloc.c in $(basename -- "$deb")"
rm -rf -- "$TMP/deb"
{
    echo "package=$PACKAGE"
    echo "version=$VERSION"
    echo "deb_sha256=$sha"
    echo "created=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$TMP/out/COMPLETE"
rm -rf -- "$DIR"
mv -- "$TMP/out" "$DIR"
log "done: $DIR ($(du -sh "$DIR" | cut -f1))"
echo "$SELFTESTS"
