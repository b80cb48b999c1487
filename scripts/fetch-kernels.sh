#!/usr/bin/env bash
# Kernel BTFs of a few Debian kernel builds, for `btf check`'s tests and
# bench: the newest 6.1 and 6.12 "cloud" images apt can download (about
# 30 MB each, a few seconds), and the newest 6.12 generic image.
#
# Usage: scripts/fetch-kernels.sh [DIR]   (DIR defaults to <repo>/target/btf-kernels)
#
# Result: DIR/<package>.btf, the .BTF section of each package's vmlinux, and
# DIR/COMPLETE listing them; idempotent (a package already extracted is not
# fetched again). Needs apt-get, dpkg-deb, objcopy, and the kernel's
# decompressor (lz4 for the cloud images, xz or zstd for the others).
set -euo pipefail

die() { printf '[fetch-kernels] error: %s\n' "$*" >&2; exit 1; }
log() { printf '[fetch-kernels] %s\n' "$*" >&2; }

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
DIR=${1:-$SCRIPT_DIR/../target/btf-kernels}
mkdir -p -- "$DIR"
DIR=$(cd -- "$DIR" && pwd)

for c in apt-get apt-cache dpkg-deb objcopy od; do
    command -v "$c" >/dev/null 2>&1 || die "$c is missing (apt-get install dpkg binutils coreutils)"
done

# The newest package whose name matches a pattern, by version order.
newest() {
    apt-cache search --names-only "$1" 2>/dev/null | awk '{print $1}' | sort -V | tail -n1
}

pkgs=()
for pattern in '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' \
    '^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned$' \
    '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$'; do
    p=$(newest "$pattern")
    if [[ -z $p ]]; then
        apt-get update -qq >/dev/null 2>&1 || true
        p=$(newest "$pattern")
    fi
    [[ -n $p ]] || die "apt knows no package matching $pattern"
    pkgs+=("$p")
done

for pkg in "${pkgs[@]}"; do
    out=$DIR/$pkg.btf
    [[ -s $out ]] && continue
    tmp=$(mktemp -d "$DIR/.tmp.XXXXXX")
    trap 'rm -rf -- "$tmp"' EXIT
    log "apt-get download $pkg"
    (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >/dev/null) \
        || die "apt-get download $pkg failed"
    dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
    vmlinuz=$(compgen -G "$tmp/boot/vmlinuz-*" | head -n1)
    [[ -n $vmlinuz ]] || die "$pkg has no boot/vmlinuz-*"
    # bzImage: the compressed kernel starts payload_offset (at 0x248)
    # bytes after the protected-mode code, (setup_sects (at 0x1f1) + 1)
    # sectors in; its first bytes say how it is compressed.
    u() { od -An -t "u$2" -j "$1" -N "$2" "$vmlinuz" | tr -d ' '; }
    setup=$(u $((0x1f1)) 1)
    ((setup == 0)) && setup=4
    start=$(((setup + 1) * 512 + $(u $((0x248)) 4)))
    magic=$(od -An -tx1 -j "$start" -N 4 "$vmlinuz" | tr -d ' \n')
    case $magic in
        fd377a58) cmd='xz -dcq --single-stream' ;;
        28b52ffd) cmd='zstd -dcq' ;;
        02214c18) cmd='lz4 -dcq' ;;
        1f8b*) cmd='gzip -dcq' ;;
        *) die "$pkg: unknown kernel compression (payload starts with $magic)" ;;
    esac
    tool=${cmd%% *}
    if ! command -v "$tool" >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
        log "apt-get install $tool"
        pkgname=$tool
        [[ $tool == xz ]] && pkgname=xz-utils
        apt-get install -y -qq --no-install-recommends "$pkgname" >/dev/null 2>&1 || true
    fi
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install $tool)"
    tail -c "+$((start + 1))" "$vmlinuz" | $cmd >"$tmp/vmlinux" 2>/dev/null || true
    objcopy --dump-section ".BTF=$tmp/vmlinux.btf" "$tmp/vmlinux" /dev/null 2>/dev/null \
        && [[ -s $tmp/vmlinux.btf ]] || die "no vmlinux with .BTF found in $pkg"
    mv -- "$tmp/vmlinux.btf" "$out"
    rm -rf -- "$tmp"
    trap - EXIT
    log "$out: $(stat -c %s "$out") bytes"
done
printf '%s\n' "${pkgs[@]}" >"$DIR/COMPLETE"
