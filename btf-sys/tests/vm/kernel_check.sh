#!/usr/bin/env bash
# kernel_check's differential test (btf-sys/tests/kernel_check.rs) against
# another kernel than the running one: boots one of Debian's kernel packages
# under qemu (TCG) with a busybox initramfs and runs the test binary,
# statically linked, as root inside it. The test takes the VM kernel's
# profile from its release, so this checks the profile's rules for that
# kernel generation.
#
# Usage (as root, from anywhere): btf-sys/tests/vm/kernel_check.sh [PACKAGE]
#   PACKAGE  a Debian kernel image package (default: the newest
#            linux-image-6.1*-cloud-amd64-unsigned apt knows)
# Environment: KCHECK_BLOBS (default 60000), VM_TIMEOUT seconds (default 900).
#
# Caches under <repo>/target/vm-kcheck. The last line is `kcheck rc=N`; the
# exit status is N.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../../.." && pwd)
[[ $(id -u) == 0 ]] || { echo "run as root (apt-get, BPF_BTF_LOAD in the VM)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

source "$SCRIPT_DIR/packages.sh"
vm_packages qemu-system-x86_64:qemu-system-x86 cpio:cpio readelf:binutils
rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
    || rustup target add x86_64-unknown-linux-musl >/dev/null

PKG=${1:-$(apt-cache search --names-only '^linux-image-6\.1[.0-9-]*-cloud-amd64-unsigned$' \
    | cut -d' ' -f1 | sort -V | tail -1)}
[[ -n $PKG ]] || { echo "no kernel package found" >&2; exit 1; }
WORK=$REPO_ROOT/target/vm-kcheck/$PKG
mkdir -p "$WORK"
if [[ ! -d $WORK/kpkg/boot ]]; then
    # Unpacked beside, then moved: a run cut short (a full disk) leaves no
    # half-unpacked kernel that a later run would take as complete.
    rm -rf "$WORK"/*.deb "$WORK/kpkg" "$WORK/kpkg.part"
    (cd "$WORK" && apt-get download -qq -o APT::Sandbox::User=root "$PKG" >/dev/null) \
        || { echo "apt-get download $PKG failed" >&2; exit 1; }
    dpkg-deb -x "$WORK"/*.deb "$WORK/kpkg.part" \
        || { echo "dpkg-deb -x of $PKG failed" >&2; exit 1; }
    mv "$WORK/kpkg.part" "$WORK/kpkg"
fi
KERNEL=$(ls "$WORK"/kpkg/boot/vmlinuz-* | head -1)

# The test binary, static.
BIN=$(cd "$REPO_ROOT" && cargo test --target x86_64-unknown-linux-musl -p btf-sys \
    --test kernel_check --no-run --message-format=json 2>/dev/null \
    | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)
[[ -x $BIN ]] || { echo "could not build the static test binary" >&2; exit 1; }

ROOT=$WORK/root
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$ROOT/bin/busybox"
cp "$BIN" "$ROOT/bin/kcheck"
cat >"$ROOT/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
echo "VM kernel: \$(cat /proc/sys/kernel/osrelease)"
cd /tmp
KCHECK_BLOBS=${KCHECK_BLOBS:-60000} /bin/kcheck --nocapture --test-threads 1 >/tmp/out.txt 2>&1
rc=\$?
grep -E "blobs in|kernel log names|ours|kernel:|special|panicked" /tmp/out.txt | cut -c1-400 | head -80
echo "kcheck rc=\$rc"
poweroff -f
INIT
chmod +x "$ROOT/init"
(cd "$ROOT" && find . | cpio -H newc -o 2>/dev/null | gzip -1 >"$WORK/initrd.gz")

timeout "${VM_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg -cpu max -m 1024 -nographic \
    -no-reboot -kernel "$KERNEL" -initrd "$WORK/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1" >"$WORK/console.txt" 2>&1 || true
grep -E "VM kernel|blobs in|kernel log names|ours|kernel:|special|panicked|kcheck rc" \
    "$WORK/console.txt" | tr -d '\r'
rc=$(grep -o 'kcheck rc=[0-9]*' "$WORK/console.txt" | tail -1 | cut -d= -f2)
exit "${rc:-1}"
