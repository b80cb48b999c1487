#!/usr/bin/env bash
# Build a real split-BTF test corpus from Debian's current linux-image-amd64.
#
# Usage: scripts/fetch-corpus.sh [DIR]      (DIR defaults to <repo>/target/btf-corpus)
#
# Result (DIR):
#   vmlinux.btf            .BTF of the kernel image (base blob)
#   modules/<name>.btf     .BTF of each module (split on vmlinux.btf)
#   ko/<name>.ko           every module as a decompressed ELF object
#   no-btf.txt             modules without a .BTF section, one name a line
#   counts.tsv             name<TAB>types, as counted by bpftool (vmlinux first)
#   vmlinux-kinds.tsv      kind<TAB>count for vmlinux, as bpftool names kinds
#   COMPLETE               key=value record; written last, DIR appears atomically
#
# Idempotent: when DIR/COMPLETE records the package version apt resolves now,
# the script says so and exits without downloading anything.
# Set FETCH_CORPUS_APT_UPDATE=1 to refresh apt's lists before resolving.
set -euo pipefail

START=$SECONDS
log() { printf '[fetch-corpus %4ds] %s\n' $((SECONDS - START)) "$*" >&2; }
die() { printf '[fetch-corpus] error: %s\n' "$*" >&2; exit 1; }

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
DIR=${1:-$REPO_ROOT/target/btf-corpus}
DIR=${DIR%/}
[[ -n $DIR ]] || die "refusing to use / as the corpus directory"
PARENT=$(dirname -- "$DIR")
mkdir -p -- "$PARENT"
PARENT=$(cd -- "$PARENT" && pwd)
DIR=$PARENT/$(basename -- "$DIR")

META=linux-image-amd64
export DEBIAN_FRONTEND=noninteractive

# ---------------------------------------------------------------- apt helpers
APT_UPDATED=0
apt_update() {
    if [[ $APT_UPDATED == 0 ]]; then
        log "apt-get update"
        apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
}

# Candidate version and dependencies of a package, as apt resolves them by
# default under the configured sources and pins. (apt-cache takes ~1 s here
# because the package cache is disabled, so call it as little as possible.)
candidate_record() { apt-cache show --no-all-versions "$1" 2>/dev/null || true; }
field() { # FIELD <record
    awk -v f="$1:" '$1 == f && !done { sub(/^[^:]*: */, ""); print; done = 1 }'
}

if [[ ${FETCH_CORPUS_APT_UPDATE:-0} == 1 ]]; then apt_update; fi
META_RECORD=$(candidate_record "$META")
if [[ -z $META_RECORD ]]; then
    apt_update
    META_RECORD=$(candidate_record "$META")
fi
META_VERSION=$(field Version <<<"$META_RECORD")
[[ -n $META_VERSION ]] || die "apt cannot resolve $META (no candidate); check the apt sources"

# linux-image-amd64 Depends: linux-image-X.Y.Z-N-amd64 (= VER)
dep=$(field Depends <<<"$META_RECORD" | tr ',|' '\n' | sed 's/^ *//' | grep -E '^linux-image-[0-9]' | head -n1 || true)
PKG=${dep%% *}
[[ -n $PKG ]] || die "cannot find the kernel image package $META depends on"
if [[ $dep =~ \(=\ *([^\)]+)\) ]]; then
    VERSION=${BASH_REMATCH[1]}
else
    VERSION=$(candidate_record "$PKG" | field Version)
fi
[[ -n $VERSION ]] || die "apt has no candidate for $PKG"

# ---------------------------------------------------------------- idempotency
if [[ -f $DIR/COMPLETE ]] \
    && grep -qxF "resolved=$PKG" "$DIR/COMPLETE" \
    && grep -qxF "version=$VERSION" "$DIR/COMPLETE"; then
    echo "fetch-corpus: $DIR is complete for $PKG $VERSION; nothing to do"
    exit 0
fi
log "building corpus for $PKG $VERSION (via $META $META_VERSION) in $DIR"

# ---------------------------------------------------------------- tools
NEEDED_CMDS=(bpftool objcopy readelf xz zstd gzip dpkg-deb sha256sum xargs find awk grep pgrep)
NEEDED_PKGS=(bpftool binutils xz-utils zstd gzip dpkg coreutils findutils grep procps)
missing=()
for c in "${NEEDED_CMDS[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
if ((${#missing[@]})); then
    log "installing tools (missing: ${missing[*]})"
    apt_update
    apt-get install -y -qq --no-install-recommends "${NEEDED_PKGS[@]}" >/dev/null
    for c in "${NEEDED_CMDS[@]}"; do command -v "$c" >/dev/null 2>&1 || die "$c still missing after apt-get install"; done
fi
# (No "grep -q" or "head" at the end of a pipe here: under pipefail the writer's
# SIGPIPE would fail the pipe at random.)
BPFTOOL_VERSION=$(bpftool version 2>&1 || true)
BPFTOOL_VERSION=${BPFTOOL_VERSION%%$'\n'*}
bpftool_help=$(bpftool btf help 2>&1 || true)
[[ $bpftool_help == *--base-btf* ]] \
    || die "this bpftool cannot dump split BTF (no -B/--base-btf): $BPFTOOL_VERSION"
grep -qP 'x' <<<x 2>/dev/null || die "grep -P (PCRE) is required"

# ---------------------------------------------------------------- temp space
# Work inside DIR's parent so the final rename stays on one file system.
# Leftovers of killed runs (their pid is gone) are removed.
TMP_PREFIX=$PARENT/.$(basename -- "$DIR").tmp.
for old in "$TMP_PREFIX"*; do
    [[ -d $old ]] || continue
    pid=${old##*.}
    if [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then rm -rf -- "$old"; fi
done
TMP=$TMP_PREFIX$$
rm -rf -- "$TMP"
mkdir -p -- "$TMP/deb" "$TMP/root" "$TMP/parts" "$TMP/out/modules" "$TMP/out/ko"
MONITOR_PID=
XARGS_PID=
cleanup() {
    if [[ -n $XARGS_PID ]]; then
        # stop the workers first (our own children, by pid), then xargs itself
        # shellcheck disable=SC2046
        kill $(pgrep -P "$XARGS_PID" || true) "$XARGS_PID" 2>/dev/null || true
        wait "$XARGS_PID" 2>/dev/null || true
    fi
    if [[ -n $MONITOR_PID ]]; then kill "$MONITOR_PID" 2>/dev/null || true; fi
    rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
OUT=$TMP/out

# ---------------------------------------------------------------- download
log "apt-get download $PKG=$VERSION"
(cd "$TMP/deb" && apt-get download -qq -o APT::Sandbox::User=root "$PKG=$VERSION" >/dev/null)
deb=$(find "$TMP/deb" -maxdepth 1 -name '*.deb' | head -n1)
[[ -n $deb ]] || die "apt-get download produced no .deb"
dpkg-deb -x "$deb" "$TMP/root"
used_pkg=$PKG
used_deb=$deb
if ! compgen -G "$TMP/root/boot/vmlinuz-*" >/dev/null || [[ ! -d $TMP/root/lib/modules ]]; then
    # The image may live in the -unsigned package (signed package = only a wrapper).
    alt=$PKG-unsigned
    log "$PKG holds no vmlinuz/modules; trying $alt"
    rm -rf -- "$TMP/root" && mkdir -p -- "$TMP/root"
    (cd "$TMP/deb" && apt-get download -qq -o APT::Sandbox::User=root "$alt=$VERSION" >/dev/null)
    used_deb=$(find "$TMP/deb" -maxdepth 1 -name "${alt}_*.deb" | head -n1)
    [[ -n $used_deb ]] || die "cannot download $alt"
    dpkg-deb -x "$used_deb" "$TMP/root"
    used_pkg=$alt
    compgen -G "$TMP/root/boot/vmlinuz-*" >/dev/null || die "no boot/vmlinuz-* in $PKG nor $alt"
fi
DEB_SHA256=$(sha256sum "$used_deb" | awk '{print $1}')
log "extracted $(basename -- "$used_deb") (sha256 $DEB_SHA256)"

# ---------------------------------------------------------------- vmlinux
vmlinuz=$(compgen -G "$TMP/root/boot/vmlinuz-*" | head -n1)
vmlinux=$TMP/vmlinux
# format name | grep -P pattern | decompressor reading stdin (trailing garbage tolerated:
# exit status is ignored, the result must be an ELF with a .BTF section)
FORMATS=(
    'xz|\xFD\x37\x7A\x58\x5A\x00|xz -dcq --single-stream'
    'zstd|\x28\xB5\x2F\xFD|zstd -dcq'
    'gzip|\x1F\x8B\x08|gzip -dcq'
    'lz4|\x02\x21\x4C\x18|lz4 -dcq'
    'bzip2|BZh[1-9]\x31\x41\x59\x26\x53\x59|bzip2 -dcq'
    'lzo|\x89\x4C\x5A\x4F\x00\x0D\x0A\x1A\x0A|lzop -dcq'
    'lzma|\x5D\x00\x00[\x00-\xff]\x00\xFF\xFF\xFF\xFF|xz -dcq --format=lzma'
)
found=
for spec in "${FORMATS[@]}"; do
    IFS='|' read -r fmt pat cmd <<<"$spec"
    command -v "${cmd%% *}" >/dev/null 2>&1 || continue
    offsets=$(LC_ALL=C grep -obUaP "$pat" "$vmlinuz" 2>/dev/null | cut -d: -f1 | head -n4 || true)
    for off in $offsets; do
        rm -f -- "$vmlinux"
        tail -c "+$((off + 1))" "$vmlinuz" | $cmd >"$vmlinux" 2>/dev/null || true
        [[ -s $vmlinux && $(head -c4 "$vmlinux" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]] || continue
        rm -f -- "$OUT/vmlinux.btf"
        if objcopy --dump-section ".BTF=$OUT/vmlinux.btf" "$vmlinux" /dev/null 2>/dev/null \
            && [[ -s $OUT/vmlinux.btf ]]; then
            found="$fmt at offset $off"
            break 2
        fi
    done
done
[[ -n $found ]] || die "no compressed ELF vmlinux with a .BTF section found in $(basename -- "$vmlinuz")"
magic=$(head -c2 "$OUT/vmlinux.btf" | od -An -tx1 | tr -d ' \n')
[[ $magic == 9feb ]] || die "vmlinux.btf does not start with BTF magic 9f eb (got $magic)"
rm -f -- "$vmlinux"

bpftool btf dump file "$OUT/vmlinux.btf" format raw >"$TMP/vmlinux.raw" \
    || die "bpftool failed on vmlinux.btf"
VMLINUX_TYPES=$(grep -c '^\[' "$TMP/vmlinux.raw" || true)
((VMLINUX_TYPES > 0)) || die "bpftool dumped no types for vmlinux.btf"
first_id=$(awk -F'[][]' '/^\[/ { print $2; exit }' "$TMP/vmlinux.raw")
[[ $first_id == 1 ]] || die "vmlinux dump starts at id $first_id, not 1"
{
    printf 'kind\tcount\n'
    awk '/^\[[0-9]+\] / { n[$2]++ } END { for (k in n) printf "%s\t%d\n", k, n[k] }' "$TMP/vmlinux.raw" | LC_ALL=C sort
} >"$OUT/vmlinux-kinds.tsv"
rm -f -- "$TMP/vmlinux.raw"
log "vmlinux: payload $found; $(stat -c %s "$OUT/vmlinux.btf") bytes of BTF, $VMLINUX_TYPES types"

# ---------------------------------------------------------------- modules
find "$TMP/root/lib/modules" -type f \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \) \
    | LC_ALL=C sort >"$TMP/modules.list"
TOTAL=$(wc -l <"$TMP/modules.list")
((TOTAL > 0)) || die "no modules under lib/modules"
dups=$(sed 's#.*/##; s#\.ko\(\.xz\|\.zst\|\.gz\)\?$##' "$TMP/modules.list" | LC_ALL=C sort | uniq -d)
[[ -z $dups ]] || die "several module files map to the same name: $(tr '\n' ' ' <<<"$dups")"
log "processing $TOTAL modules with $(nproc) workers"

# One invocation handles a batch of module paths; results go to per-process part files.
process_batch() {
    set -euo pipefail
    local counts=$PARTS/$$.counts nobtf=$PARTS/$$.nobtf
    local path base name ko btf raw n first sections
    for path in "$@"; do
        base=${path##*/}
        case $base in
            *.ko)     name=${base%.ko} ;;
            *.ko.xz)  name=${base%.ko.xz} ;;
            *.ko.zst) name=${base%.ko.zst} ;;
            *.ko.gz)  name=${base%.ko.gz} ;;
            *) echo "fetch-corpus: unexpected module file $path" >&2; exit 255 ;;
        esac
        ko=$OUT/ko/$name.ko
        btf=$OUT/modules/$name.btf
        case $base in
            *.ko)     mv -- "$path" "$ko" ;;
            *.ko.xz)  xz -dc -- "$path" >"$ko" ;;
            *.ko.zst) zstd -dcq -- "$path" >"$ko" ;;
            *.ko.gz)  gzip -dc -- "$path" >"$ko" ;;
        esac || { echo "fetch-corpus: module $name: cannot decompress $path" >&2; exit 255; }
        # objcopy (2.40) exits 0 when the section is missing: judge by the output file.
        rm -f -- "$btf"
        if ! objcopy --dump-section ".BTF=$btf" "$ko" /dev/null 2>"$PARTS/$$.err" || [[ ! -s $btf ]]; then
            # No .BTF is fine (listed); any other objcopy failure is fatal.
            sections=$(readelf -S -W "$ko" 2>/dev/null || true)
            if grep -qE '^ *\[ *[0-9]+\] ' <<<"$sections" \
                && ! grep -qE '\] \.BTF[[:space:]]' <<<"$sections"; then
                rm -f -- "$btf"
                echo "$name" >>"$nobtf"
                continue
            fi
            echo "fetch-corpus: module $name: objcopy failed: $(cat "$PARTS/$$.err")" >&2; exit 255
        fi
        raw=$PARTS/$$.raw
        if ! bpftool -B "$OUT/vmlinux.btf" btf dump file "$btf" format raw >"$raw" 2>"$PARTS/$$.err"; then
            echo "fetch-corpus: module $name: bpftool failed: $(head -c 500 "$PARTS/$$.err")" >&2; exit 255
        fi
        n=$(grep -c '^\[' "$raw" || true)
        if ((n > 0)); then
            first=$(awk -F'[][]' '/^\[/ { print $2; exit }' "$raw")
            if [[ $first != $((VMLINUX_TYPES + 1)) ]]; then
                echo "fetch-corpus: module $name: first split id $first != vmlinux types + 1 ($((VMLINUX_TYPES + 1)))" >&2; exit 255
            fi
        fi
        printf '%s\t%s\n' "$name" "$n" >>"$counts"
    done
}
export -f process_batch
export OUT VMLINUX_TYPES
export PARTS=$TMP/parts

(
    sp=
    trap '[[ -n $sp ]] && kill "$sp" 2>/dev/null; exit 0' TERM
    while :; do
        sleep 15 & sp=$!
        wait "$sp" || true
        log "modules: $(find "$OUT/ko" -maxdepth 1 -name '*.ko' | wc -l)/$TOTAL done"
    done
) &
MONITOR_PID=$!

# In the background so that a signal reaches the trap (and cleanup) at once.
xargs -d '\n' -P "$(nproc)" -n 50 bash -c 'process_batch "$@"' _ <"$TMP/modules.list" &
XARGS_PID=$!
if ! wait "$XARGS_PID"; then
    XARGS_PID=
    die "module processing failed (see the module named above)"
fi
XARGS_PID=
kill "$MONITOR_PID" 2>/dev/null || true
wait "$MONITOR_PID" 2>/dev/null || true
MONITOR_PID=

shopt -s nullglob
cat /dev/null "$PARTS"/*.nobtf | LC_ALL=C sort >"$OUT/no-btf.txt"
{
    printf 'name\ttypes\n'
    printf 'vmlinux\t%s\n' "$VMLINUX_TYPES"
    cat /dev/null "$PARTS"/*.counts | LC_ALL=C sort
} >"$OUT/counts.tsv"
shopt -u nullglob
WITH=$(find "$OUT/modules" -maxdepth 1 -name '*.btf' | wc -l)
WITHOUT=$(wc -l <"$OUT/no-btf.txt")
COUNTED=$(($(wc -l <"$OUT/counts.tsv") - 2))
KOS=$(find "$OUT/ko" -maxdepth 1 -name '*.ko' | wc -l)
((WITH == COUNTED)) || die "$WITH module .btf files but $COUNTED counted"
((WITH + WITHOUT == TOTAL && KOS == TOTAL)) || die "module totals disagree: $WITH + $WITHOUT, $KOS .ko, $TOTAL files"

# ---------------------------------------------------------------- finish
cat >"$OUT/COMPLETE" <<EOF
meta=$META $META_VERSION
resolved=$PKG
package=$used_pkg
version=$VERSION
deb=$(basename -- "$used_deb")
deb_sha256=$DEB_SHA256
modules_with_btf=$WITH
modules_without_btf=$WITHOUT
vmlinux_types=$VMLINUX_TYPES
bpftool=$BPFTOOL_VERSION
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF

if [[ -e $DIR ]]; then mv -T -- "$DIR" "$TMP/old"; fi
mv -T -- "$OUT" "$DIR"
echo "fetch-corpus: $used_pkg $VERSION: $WITH modules with BTF, $WITHOUT without, vmlinux $VMLINUX_TYPES types, $((SECONDS - START))s -> $DIR"
