#!/usr/bin/env bash
# The two cases of libbpf's CO-RE table (`prog_tests/core_reloc.c`) that
# need the selftests' own kernel module, bpf_testmod.ko: `module_probed`
# and `module_direct` (benches/tests/core_reloc.rs,
# kernel_selftests_core_reloc_module_cases), in a VM running Debian's 6.12
# kernel with that module inserted.
#
#  1. Downloads (apt-get download, no install) Debian's 6.12 cloud kernel
#     image, headers and kbuild, the same version as the linux-source-6.12
#     the selftests come from (scripts/fetch-kselftests.sh).
#  2. Builds tools/testing/selftests/bpf/bpf_testmod out of tree against
#     those headers, with the kernel's own compiler (gcc-12) and module BTF
#     (pahole, split on the headers' vmlinux, as Kbuild does it).
#  3. On the host: the test, with BTF_TESTMOD_STAGE, writes the cases and
#     test_core_reloc_module.o, and compares our relocations against the
#     headers' vmlinux + the module's split BTF with libbpf's.
#  4. Boots the kernel under qemu (TCG) with a busybox initramfs holding the
#     test binaries (and the shared libraries they use), inserts
#     bpf_testmod.ko and runs the test with BTF_TESTMOD_CASES: libbpf
#     (running kernel, module BTF by id) == ours
#     (/sys/kernel/btf/vmlinux + /sys/kernel/btf/bpf_testmod), instruction
#     for instruction; then each program, with our instructions, is loaded,
#     fired by a read of /sys/kernel/bpf_testmod and must write the table's
#     output.
#
# Usage (as root, from anywhere): btf-sys/tests/vm/testmod.sh
# Environment: VM_TIMEOUT seconds the VM may run (default 600);
# VM_VERBOSE=1 prints the whole console.
#
# Caches under <repo>/target/vm-testmod/<version>. The last line is
# `testmod: N passed, M failed`; the exit status is non-zero on a failure.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
TALLY_NAME=testmod TALLY_SUMMARY="testmod: "
source "$SCRIPT_DIR/tally.sh"

REPO_ROOT=$(cd -- "$SCRIPT_DIR/../../.." && pwd)
export DEBIAN_FRONTEND=noninteractive
[[ $(id -u) == 0 ]] || die "run as root (apt-get; the test loads BPF programs)"

# ---------------------------------------------------------------- packages
# command:package (busybox must be the static one: it is the VM's userland)
# (pc:NAME: a pkg-config module, for libbpf-sys's build)
source "$SCRIPT_DIR/packages.sh"
vm_packages qemu-system-x86_64:qemu-system-x86 cpio:cpio gzip:gzip make:make gcc-12:gcc-12 \
    cc:gcc pahole:dwarves objcopy:binutils readelf:binutils clang-19:clang-19 bpftool:bpftool \
    dpkg-deb:dpkg ldd:libc-bin sha256sum:coreutils timeout:coreutils pkg-config:pkg-config \
    pc:libelf:libelf-dev pc:zlib:zlib1g-dev

# ---------------------------------------------------------------- kernel
log "selftests: scripts/fetch-kselftests.sh"
SELFTESTS=$("$REPO_ROOT/scripts/fetch-kselftests.sh" | tail -n1) \
    || die "scripts/fetch-kselftests.sh failed"
VERSION=$(sed -n 's/^version=//p' "$SELFTESTS/../../../../../COMPLETE")
[[ -n $VERSION ]] || die "no version in the selftests' COMPLETE record"
# 6.12.118-1~deb12u1 -> 6.12.118+deb12 (Debian's ABI name for bookworm).
ABI=${VERSION%%-*}+deb12
FLAVOUR=$ABI-cloud-amd64
PKGS=("linux-image-$FLAVOUR-unsigned" "linux-headers-$FLAVOUR" "linux-headers-$ABI-common"
    "linux-kbuild-$ABI")
WORK=$REPO_ROOT/target/vm-testmod/$VERSION
KPKG=$WORK/kpkg
if [[ ! -f $KPKG/COMPLETE ]]; then
    log "apt-get download ${PKGS[*]} (=$VERSION)"
    rm -rf -- "$KPKG" "$WORK/deb"
    mkdir -p -- "$WORK/deb" "$KPKG"
    (cd "$WORK/deb" && apt-get download -qq -o APT::Sandbox::User=root \
        "${PKGS[@]/%/=$VERSION}" >/dev/null) || die "apt-get download ${PKGS[*]} failed"
    for deb in "$WORK"/deb/*.deb; do dpkg-deb -x "$deb" "$KPKG"; done
    rm -rf -- "$WORK/deb"
    touch "$KPKG/COMPLETE"
fi
KERNEL=$KPKG/boot/vmlinuz-$FLAVOUR
HEADERS=$KPKG/usr/src/linux-headers-$FLAVOUR
COMMON=$KPKG/usr/src/linux-headers-$ABI-common
[[ -f $KERNEL && -f $HEADERS/vmlinux && -f $COMMON/Makefile ]] || die "incomplete packages in $KPKG"
log "kernel: $FLAVOUR ($VERSION)"

# ---------------------------------------------------------------- bpf_testmod.ko
# The flavour's Makefile includes the common one by its installed path
# (/usr/src/...): give it by -f instead, so nothing is installed. Kbuild
# then takes the sources from the common tree, the configuration from the
# flavour's, and generates the module's BTF split on the flavour's vmlinux.
MOD=$WORK/bpf_testmod
rm -rf -- "$MOD"
cp -r -- "$SELFTESTS/bpf_testmod" "$MOD"
log "building bpf_testmod.ko ($(grep -o 'gcc-[0-9]*' "$HEADERS/.kernelvariables" | head -n1), pahole $(pahole --version))"
make -C "$HEADERS" -f "$COMMON/Makefile" M="$MOD" modules >"$WORK/make.log" 2>&1 \
    || { tail -n 30 "$WORK/make.log" >&2; die "building bpf_testmod.ko failed"; }
KO=$MOD/bpf_testmod.ko
readelf -S "$KO" | grep -F ' .BTF ' >/dev/null || die "bpf_testmod.ko has no .BTF section"
pass "bpf_testmod.ko built against linux-headers-$FLAVOUR, with BTF"

# ---------------------------------------------------------------- test binaries
# With scripts/test's features (--workspace --all-features): the binary
# it built, when it ran first, is reused.
log "building the core_reloc test (cargo test --no-run)"
JSON=$(cd "$REPO_ROOT" && cargo test --quiet --workspace --all-features --test core_reloc \
    --no-run --message-format=json 2>"$WORK/cargo.log") \
    || { tail -n 30 "$WORK/cargo.log" >&2; die "building the core_reloc test failed"; }
executable() { # TARGET-NAME: the executable cargo reported for it
    grep -F "\"name\":\"$1\"" <<<"$JSON" | grep -o '"executable":"[^"]*"' | tail -n1 | cut -d'"' -f4
}
TEST_BIN=$(executable core_reloc)
CASE_BIN=$(executable core_selftest_case)
[[ -x $TEST_BIN && -x $CASE_BIN ]] || die "no core_reloc / core_selftest_case executable after the build"
# The test runs the case binary by the path cargo compiled into it.
grep -aF "$CASE_BIN" "$TEST_BIN" >/dev/null \
    || die "$TEST_BIN does not name $CASE_BIN"

# ---------------------------------------------------------------- host stage
STAGE=$WORK/stage
rm -rf -- "$STAGE"
log "staging the cases; ours against vmlinux + bpf_testmod.ko's BTF on the host, with libbpf"
if (cd "$REPO_ROOT/benches" && BTF_TESTMOD_STAGE=$STAGE BTF_TESTMOD_KO=$KO \
    BTF_TESTMOD_VMLINUX=$HEADERS/vmlinux "$TEST_BIN" --ignored --exact \
    kernel_selftests_core_reloc_module_cases --nocapture) >"$WORK/stage.log" 2>&1; then
    pass "host: $(grep -c 'instructions as libbpf' "$WORK/stage.log") object(s) relocated as libbpf against vmlinux + bpf_testmod.ko; cases staged: $(cut -f1 "$STAGE/cases.tsv" | tr '\n' ' ')"
    grep -F 'instructions as libbpf' "$WORK/stage.log" | sed 's/^/  /'
else
    tail -n 40 "$WORK/stage.log"
    die "staging on the host failed"
fi

# ---------------------------------------------------------------- initramfs
ROOT=$WORK/initramfs
rm -rf -- "$ROOT"
mkdir -p -- "$ROOT"/{bin,proc,sys,dev,tmp,testmod}
cp -- /bin/busybox "$ROOT/bin/busybox"
# The binaries at their own paths (stripped of debug info), with every
# shared library they load at its path.
for bin in "$TEST_BIN" "$CASE_BIN"; do
    mkdir -p -- "$ROOT$(dirname -- "$bin")"
    objcopy --strip-debug "$bin" "$ROOT$bin"
    for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
        mkdir -p -- "$ROOT$(dirname -- "$lib")"
        cp -L -- "$lib" "$ROOT$lib"
    done
done
cp -- "$STAGE"/* "$KO" "$ROOT/testmod/"
cat >"$ROOT/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "TESTMOD boot \$(uname -r)"
if insmod /testmod/bpf_testmod.ko; then echo "TESTMOD insmod ok"; else echo "TESTMOD insmod failed"; fi
echo "TESTMOD btf \$(ls /sys/kernel/btf | tr '\n' ' ')"
echo "TESTMOD vmlinux-sha256 \$(sha256sum /sys/kernel/btf/vmlinux | cut -d' ' -f1)"
cd /tmp
BTF_TESTMOD_CASES=/testmod $TEST_BIN --ignored --exact kernel_selftests_core_reloc_module_cases \
    --nocapture --test-threads 1 2>&1 | sed 's/^/TESTMOD-OUT /'
echo "TESTMOD done"
poweroff -f
INIT
chmod +x "$ROOT/init"
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$WORK/initrd.gz"
log "initramfs: $(($(stat -c %s "$WORK/initrd.gz") / 1024 / 1024)) MiB"

# ---------------------------------------------------------------- boot
CONSOLE=$WORK/console.log
log "booting under qemu (TCG; timeout ${VM_TIMEOUT:-600}s); console: $CONSOLE"
set +e
timeout -k 10 "${VM_TIMEOUT:-600}" qemu-system-x86_64 -accel tcg -cpu max -m 2048 -nographic \
    -no-reboot -kernel "$KERNEL" -initrd "$WORK/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet" </dev/null >"$CONSOLE" 2>&1
QEMU_STATUS=$?
set -e
log "qemu exited with status $QEMU_STATUS"
OUT=$(tr -d '\r' <"$CONSOLE" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[A-Za-z]//g; s/^.*\(TESTMOD\)/\1/')
[[ ${VM_VERBOSE:-0} != 1 ]] || printf '%s\n' "$OUT"
line() { grep -E "$1" <<<"$OUT" || true; }

# ---------------------------------------------------------------- results
check "$([[ -n $(line '^TESTMOD done$') ]]; echo $?)" "vm ran to the end (qemu status $QEMU_STATUS)"
booted=$(line '^TESTMOD boot ')
check "$([[ $booted == "TESTMOD boot $FLAVOUR" ]]; echo $?)" "vm booted ${booted#TESTMOD boot }"
[[ -n $booted ]] || tail -n 30 <<<"$OUT"
check "$([[ -n $(line '^TESTMOD insmod ok$') ]]; echo $?)" "insmod bpf_testmod.ko"
check "$([[ $(line '^TESTMOD btf ') == *" bpf_testmod "* ]]; echo $?)" \
    "/sys/kernel/btf/bpf_testmod exists"
# The module's BTF was made split on the headers' vmlinux: it must be the
# running kernel's.
want=$(objcopy -O binary --only-section=.BTF "$HEADERS/vmlinux" /dev/stdout | sha256sum | cut -d' ' -f1)
got=$(line '^TESTMOD vmlinux-sha256 ' | cut -d' ' -f3)
check "$([[ $got == "$want" ]]; echo $?)" \
    "the VM's /sys/kernel/btf/vmlinux is the headers' vmlinux BTF the module was built on"
test_out=$(line '^TESTMOD-OUT ' | sed 's/^TESTMOD-OUT //')
printf '%s\n' "$test_out" | grep -E 'wrote the expected|reproduced|relocations,|panicked|went wrong|test result' \
    | cut -c1-300 | sed 's/^/  vm: /'
for name in $(cut -f1 "$STAGE/cases.tsv"); do
    check "$(grep -E "(^| )$name \(.*\): wrote the expected [0-9]+ bytes$" <<<"$test_out" >/dev/null; echo $?)" \
        "vm: $name: relocated as libbpf, loaded, fired, wrote the table's output"
done
check "$(grep -E '^test result: ok\. 1 passed; 0 failed;' <<<"$test_out" >/dev/null; echo $?)" \
    "vm: kernel_selftests_core_reloc_module_cases passed"
