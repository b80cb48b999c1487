#!/usr/bin/env bash
# Real module BTF, in a VM: boots Debian's current linux-image-amd64 kernel
# under qemu (TCG), inserts several of the package's own modules
# (dependencies first) and runs btf-sys's `vm_check` example, statically
# linked, as root (module BTF by id == /sys/kernel/btf/<module>, parsed on
# vmlinux) and as an unprivileged user (the sysfs fallback gives the same).
# Then the `btf` tool, statically linked too, dumps every object as
# `btf dump /sys/kernel/btf/<name>` (modules on the default vmlinux base) and
# as `btf dump id:N`; each dump's sha256 must equal that of bpftool's dump of
# the same module's .ko on the host (`bpftool -B vmlinux.btf`).
# Last, CO-RE on module types: `btf reloc module.o` inside the VM (the
# running kernel's BTF, its modules' read by id as root, through sysfs as
# nobody) relocates btf-core/tests/ext_progs/module.c, whose types only
# veth and nf_tables have; every line must equal what the host's
# `btf reloc` prints against the corpus's vmlinux.btf and split module
# blobs, and two offsets are checked against bpftool's dump.
#
# Usage (as root, from anywhere): btf-sys/tests/vm/run.sh
#
# Environment:
#   VM_MODULES   modules to insert, dependencies are added
#                (default: "bridge nf_tables veth"; veth and nf_tables are
#                always added, for the CO-RE check)
#   VM_TIMEOUT   seconds the VM may run (default 900)
#   VM_VERBOSE=1 print the whole console, not only failures
#   CARGO_TARGET_DIR is honoured for the vm_check build.
#
# Caches under <repo>/target: btf-corpus (scripts/fetch-corpus.sh: .ko files)
# and vm/kernel-<package>-<version>/vmlinuz. The last line is always
# `N passed, M failed`; the exit status is non-zero on any failure.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
TALLY_NAME=vm TALLY_SUMMARY="" TALLY_QUIET_PASS=1
source "$SCRIPT_DIR/tally.sh"
QEMU=
tally_cleanup() {
    if [[ -n $QEMU ]] && kill -0 "$QEMU" 2>/dev/null; then kill "$QEMU" 2>/dev/null || true; fi
}
trap 'exit 130' INT TERM

REPO_ROOT=$(cd -- "$SCRIPT_DIR/../../.." && pwd)
CORPUS=$REPO_ROOT/target/btf-corpus
CACHE=$REPO_ROOT/target/vm
MODULES=${VM_MODULES:-bridge nf_tables veth}
# The CO-RE check's program reads types of these two.
for m in veth nf_tables; do [[ " $MODULES " == *" $m "* ]] || MODULES+=" $m"; done
VM_TIMEOUT=${VM_TIMEOUT:-900}
export DEBIAN_FRONTEND=noninteractive
[[ $(id -u) == 0 ]] || die "run as root (apt-get, and the VM's files are owned by root)"
mkdir -p -- "$CACHE"

# ---------------------------------------------------------------- packages
# command:package (busybox must be the static one: it is the VM's userland)
source "$SCRIPT_DIR/packages.sh"
vm_packages qemu-system-x86_64:qemu-system-x86 cpio:cpio gzip:gzip objcopy:binutils \
    readelf:binutils apt-get:apt dpkg-deb:dpkg timeout:coreutils musl-gcc:musl-tools \
    bpftool:bpftool sha256sum:coreutils clang-19:clang-19
BUSYBOX=/bin/busybox
for app in insmod su poweroff; do
    "$BUSYBOX" --list | grep -x "$app" >/dev/null || die "busybox has no $app applet"
done
command -v cargo >/dev/null 2>&1 || die "cargo is not installed"

# ---------------------------------------------------------------- kernel and modules
log "corpus: scripts/fetch-corpus.sh (idempotent)"
"$REPO_ROOT/scripts/fetch-corpus.sh" "$CORPUS" >"$CACHE/fetch-corpus.log" 2>&1 \
    || { tail -n 20 "$CACHE/fetch-corpus.log" >&2; die "scripts/fetch-corpus.sh failed"; }
record() { sed -n "s/^$1=//p" "$CORPUS/COMPLETE"; }
PACKAGE=$(record package)
VERSION=$(record version)
DEB_SHA256=$(record deb_sha256)
[[ -n $PACKAGE && -n $VERSION ]] || die "$CORPUS/COMPLETE names no package and version"

KDIR=$CACHE/kernel-$PACKAGE-$VERSION
if [[ ! -s $KDIR/vmlinuz ]]; then
    log "apt-get download $PACKAGE=$VERSION (for its vmlinuz)"
    tmp=$CACHE/.download.$$
    rm -rf -- "$tmp" && mkdir -p -- "$tmp"
    (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$PACKAGE=$VERSION" >/dev/null) \
        || { rm -rf -- "$tmp"; die "apt-get download $PACKAGE=$VERSION failed"; }
    deb=$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n1)
    sha=$(sha256sum "$deb" | cut -d' ' -f1)
    # The .ko files come from the corpus: the kernel must be the same build.
    [[ $sha == "$DEB_SHA256" ]] \
        || { rm -rf -- "$tmp"; die "$(basename -- "$deb") sha256 $sha != the corpus's $DEB_SHA256"; }
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
    vmlinuz=$(compgen -G "$tmp/boot/vmlinuz-*" | head -n1 || true)
    [[ -n $vmlinuz ]] || { rm -rf -- "$tmp"; die "no boot/vmlinuz-* in $(basename -- "$deb")"; }
    mkdir -p -- "$KDIR"
    mv -- "$vmlinuz" "$KDIR/vmlinuz.tmp" && mv -- "$KDIR/vmlinuz.tmp" "$KDIR/vmlinuz"
    rm -rf -- "$tmp"
fi
log "kernel: $PACKAGE $VERSION"

# The .modinfo field FIELD of a .ko, one value a line.
modinfo() { # FIELD KO
    objcopy -O binary --only-section=.modinfo "$2" "$CACHE/modinfo.tmp" 2>/dev/null || return 0
    tr '\0' '\n' <"$CACHE/modinfo.tmp" | sed -n "s/^$1=//p"
    rm -f -- "$CACHE/modinfo.tmp"
}
# The corpus file for a module name (names use _ where files may use -).
ko_of() {
    local f
    for f in "$CORPUS/ko/$1.ko" "$CORPUS/ko/${1//-/_}.ko" "$CORPUS/ko/${1//_/-}.ko"; do
        [[ -f $f ]] && { echo "$f"; return 0; }
    done
    # Not a file name: an alias (e.g. the softdep "crc32c"). Prefer a generic
    # implementation, which runs on any CPU.
    # shellcheck disable=SC2013 # file names without spaces
    for f in $(LC_ALL=C grep -laP "(^|\x00)alias=\Q$1\E\x00" "$CORPUS"/ko/*.ko 2>/dev/null \
        | awk '{ print (/generic/ ? 0 : 1) "\t" $0 }' | sort | cut -f2); do
        echo "$f"; return 0
    done
    return 1
}
ORDER=()
declare -A SEEN=()
add_module() { # NAME [CHAIN]
    local ko name dep
    ko=$(ko_of "$1") || die "module $1 (needed by ${2:-the list}) is not in the package"
    name=$(basename -- "$ko" .ko)
    name=${name//-/_}
    [[ ${SEEN[$name]:-} == "done" ]] && return 0
    [[ ${SEEN[$name]:-} == busy ]] && die "dependency loop at $name: $2"
    SEEN[$name]=busy
    # softdep "pre:" modules, then hard dependencies, then the module.
    for dep in $(modinfo softdep "$ko" | sed -n 's/^pre: *\([^:]*\)\( post:.*\)\?$/\1/p'); do
        add_module "$dep" "${2:+$2 > }$name"
    done
    for dep in $(modinfo depends "$ko" | tr ',' ' '); do
        add_module "$dep" "${2:+$2 > }$name"
    done
    [[ -s $CORPUS/modules/$(basename -- "$ko" .ko).btf ]] || die "module $name has no .BTF section"
    SEEN[$name]="done"
    ORDER+=("$name:$ko")
}
for m in $MODULES; do add_module "$m"; done
NAMES=()
for entry in "${ORDER[@]}"; do NAMES+=("${entry%%:*}"); done
log "modules (${#NAMES[@]}, insertion order): ${NAMES[*]}"

# ---------------------------------------------------------------- vm_check
log "building vm_check (x86_64-unknown-linux-musl, static)"
if command -v rustup >/dev/null 2>&1; then
    rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1 \
        || die "rustup target add x86_64-unknown-linux-musl failed"
fi
(cd "$REPO_ROOT" && cargo build --quiet --release -p btf-sys --example vm_check \
    --target x86_64-unknown-linux-musl) >"$CACHE/build.log" 2>&1 \
    || { tail -n 30 "$CACHE/build.log" >&2; die "building vm_check failed"; }
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO_ROOT/target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR=$REPO_ROOT/$TARGET_DIR
VM_CHECK=$TARGET_DIR/x86_64-unknown-linux-musl/release/examples/vm_check
[[ -x $VM_CHECK ]] || die "no $VM_CHECK after the build"
vm_is_dynamic "$VM_CHECK" && die "$VM_CHECK is not statically linked"

log "building the btf tool (x86_64-unknown-linux-musl, static; C parts with musl-gcc)"
(cd "$REPO_ROOT" && CC_x86_64_unknown_linux_musl=musl-gcc cargo build --quiet --release \
    -p btf-sys --features cli --bin btf --target x86_64-unknown-linux-musl) \
    >"$CACHE/build-btf.log" 2>&1 \
    || { tail -n 30 "$CACHE/build-btf.log" >&2; die "building the btf tool failed"; }
BTF_TOOL=$TARGET_DIR/x86_64-unknown-linux-musl/release/btf
[[ -x $BTF_TOOL ]] || die "no $BTF_TOOL after the build"
vm_is_dynamic "$BTF_TOOL" && die "$BTF_TOOL is not statically linked"

# ---------------------------------------------------------------- CO-RE on module types (1/2)
# module.o, and what the host's btf reloc prints for it against the
# corpus: the modules are given as files named like the modules (the name
# a target is printed with), so that each line can equal the VM's.
log "building btf-core/tests/ext_progs/module.c (clang-19) and relocating it on the host"
RELOC_DIR=$CACHE/reloc
rm -rf -- "$RELOC_DIR"
mkdir -p -- "$RELOC_DIR/modules"
clang-19 -g -O2 -target bpfel -c "$REPO_ROOT/btf-core/tests/ext_progs/module.c" \
    -o "$RELOC_DIR/module.o" 2>"$RELOC_DIR/clang.log" \
    || { cat "$RELOC_DIR/clang.log" >&2; die "clang-19 module.c failed"; }
for m in veth nf_tables; do
    ln -s -- "$CORPUS/modules/$m.btf" "$RELOC_DIR/modules/$m"
done
(cd "$RELOC_DIR/modules" && "$BTF_TOOL" reloc --btf "$CORPUS/vmlinux.btf" \
    --module veth --module nf_tables "$RELOC_DIR/module.o") >"$RELOC_DIR/host.txt" \
    || die "btf reloc on the host failed"

# ---------------------------------------------------------------- initramfs
ROOT=$CACHE/initramfs
rm -rf -- "$ROOT"
mkdir -p -- "$ROOT"/{bin,etc,proc,sys,dev,tmp,lib/modules/vmcheck}
cp -- "$BUSYBOX" "$ROOT/bin/busybox"
ln -s busybox "$ROOT/bin/sh"
cp -- "$VM_CHECK" "$ROOT/bin/vm_check"
cp -- "$BTF_TOOL" "$ROOT/bin/btf"
mkdir -p -- "$ROOT/lib/core" && cp -- "$RELOC_DIR/module.o" "$ROOT/lib/core/module.o"
install -m 0755 -- "$SCRIPT_DIR/init.sh" "$ROOT/init"
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
for entry in "${ORDER[@]}"; do
    cp -- "${entry#*:}" "$ROOT/lib/modules/vmcheck/${entry%%:*}.ko"
    echo "${entry%%:*}" >>"$ROOT/modules.order"
done
(IFS=,; echo "${NAMES[*]}") >"$ROOT/modules.expect"
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$CACHE/initrd.gz"
log "initramfs: $(($(stat -c %s "$CACHE/initrd.gz") / 1024)) KiB"

# ---------------------------------------------------------------- boot
CONSOLE=$CACHE/console.log
log "booting under qemu (TCG; timeout ${VM_TIMEOUT}s); console: $CONSOLE"
: >"$CONSOLE"
set +e
timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -m 512 -nographic -no-reboot \
    -kernel "$KDIR/vmlinuz" -initrd "$CACHE/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet" </dev/null >"$CONSOLE" 2>&1 &
QEMU=$!
set -e
seen=
while kill -0 "$QEMU" 2>/dev/null; do
    sleep 2
    for stage in "boot:VMCHECK-INIT boot" "modules inserted:VMCHECK-INIT btf" \
        "root checks done:VMCHECK-INIT exit root" "user checks done:VMCHECK-INIT exit user"; do
        if [[ $seen != *"|${stage%%:*}|"* ]] && grep -qF "${stage#*:}" "$CONSOLE"; then
            seen+="|${stage%%:*}|"
            log "vm: ${stage%%:*}"
        fi
    done
done
set +e
wait "$QEMU"
QEMU_STATUS=$?
set -e
QEMU=
log "qemu exited with status $QEMU_STATUS"

# ---------------------------------------------------------------- results
# Without CRs and terminal escapes (SeaBIOS clears the screen on the line the
# first output of init lands on).
OUT=$(tr -d '\r' <"$CONSOLE" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[A-Za-z]//g; s/^.*\(VMCHECK\)/\1/')
if [[ ${VM_VERBOSE:-0} == 1 ]]; then printf '%s\n' "$OUT"; fi
line() { grep -E "$1" <<<"$OUT" || true; }

check "$([[ $QEMU_STATUS != 124 && $QEMU_STATUS != 137 ]]; echo $?)" \
    "vm finished within ${VM_TIMEOUT}s (qemu status $QEMU_STATUS)"
booted=$(line '^VMCHECK-INIT boot ')
check "$([[ -n $booted ]]; echo $?)" "vm booted: ${booted#VMCHECK-INIT boot }"
if [[ -z $booted ]]; then
    tail -n 30 <<<"$OUT"
fi
inserted=0
for name in "${NAMES[@]}"; do
    if [[ -n $(line "^VMCHECK-INIT insmod $name ok\$") ]]; then
        inserted=$((inserted + 1)); pass "insmod $name"
    else
        result=$(line "^VMCHECK-INIT insmod $name " | head -n1)
        fail "insmod $name: ${result:-not reached}"
    fi
done
btf_line=$(line '^VMCHECK-INIT btf ')
[[ -z $btf_line ]] || log "vm: /sys/kernel/btf: ${btf_line#VMCHECK-INIT btf }"
check "$([[ -n $(line '^VMCHECK-INIT done$') ]]; echo $?)" "init ran to the end"

for who in root user; do
    passes=$(grep -cE "^VMCHECK PASS \[$who\] " <<<"$OUT" || true)
    fails=$(grep -cE "^VMCHECK FAIL \[$who\] " <<<"$OUT" || true)
    line "^VMCHECK FAIL \[$who\] "
    PASSED=$((PASSED + passes))
    FAILED=$((FAILED + fails))
    tally=$(line "^VMCHECK TALLY \[$who\] " | tail -n1)
    check "$([[ $tally == "VMCHECK TALLY [$who] $passes passed, $fails failed" ]]; echo $?)" \
        "vm_check $who printed its tally, matching its $passes PASS and $fails FAIL lines (${tally:-no tally})"
    status=$(line "^VMCHECK-INIT exit $who " | tail -n1)
    check "$([[ $status == "VMCHECK-INIT exit $who 0" ]]; echo $?)" \
        "vm_check $who exit status ${status##* }"
    while read -r modules_line; do
        [[ -n $modules_line ]] || continue
        log "vm_check $who: ${modules_line#*] }"
        expected=$(sed -n 's/.* expected=\([0-9]*\) .*/\1/p' <<<"$modules_line")
        found=$(sed -n 's/.* found=\([0-9]*\) .*/\1/p' <<<"$modules_line")
        check "$([[ $expected == "${#NAMES[@]}" && $found -ge $inserted && $found -gt 0 ]]; echo $?)" \
            "$who: modules inserted ${#NAMES[@]} ($inserted ok), expected $expected, found $found"
    done <<<"$(line "^VMCHECK MODULES \[$who\] ")"
    [[ -n $(line "^VMCHECK MODULES \[$who\] ") ]] || fail "$who: vm_check printed no module count"
done
log "modules: ${#NAMES[@]} inserted, $inserted ok"

# ---------------------------------------------------------------- btf dump
# What each object's dump must hash to: bpftool's dump of the same BTF here.
sha_of() { sha256sum | cut -d' ' -f1; }
declare -A WANT=()
WANT[vmlinux]=$(bpftool btf dump file "$CORPUS/vmlinux.btf" format raw | sha_of)
for entry in "${ORDER[@]}"; do
    WANT[${entry%%:*}]=$(bpftool -B "$CORPUS/vmlinux.btf" btf dump file "${entry#*:}" format raw | sha_of)
done
for how in sysfs id user; do
    dumped=0
    for name in vmlinux "${NAMES[@]}"; do
        got=$(line "^VMCHECK-DUMP $how $name " | tail -n1)
        got=${got##* }
        if [[ $got == "${WANT[$name]}" ]]; then
            dumped=$((dumped + 1)); pass "btf dump ($how) $name equals bpftool's"
        else
            fail "btf dump ($how) $name: sha256 ${got:-missing}, bpftool's ${WANT[$name]}"
        fi
    done
    log "btf dump ($how): $dumped of $((${#NAMES[@]} + 1)) objects equal bpftool's dumps"
done

# ---------------------------------------------------------------- CO-RE on module types (2/2)
# Each VM run (root: module BTF by id; user: through sysfs) printed every
# line of `btf reloc` as `VMCHECK-RELOC <who> <line>`: all must equal the
# host's, and say where they found the types.
reloc_lines=$(grep -c '' "$RELOC_DIR/host.txt")
for who in root user; do
    got=$(line "^VMCHECK-RELOC $who " | sed "s/^VMCHECK-RELOC $who //")
    if [[ $got == "$(cat "$RELOC_DIR/host.txt")" ]]; then
        pass "btf reloc module.o ($who) equals the host's $reloc_lines lines"
    else
        fail "btf reloc module.o ($who) differs from the host's:"
        diff <(printf '%s\n' "$got") "$RELOC_DIR/host.txt" | head -n 20
    fi
done
took=$(line '^VMCHECK-INIT reloc took ' | tail -n1)
log "btf reloc module.o in the VM (${took#VMCHECK-INIT reloc took }): $(tail -n1 "$RELOC_DIR/host.txt")"
# Types found in the modules, not vmlinux (nor nowhere).
for m in veth nf_tables; do
    n=$(grep -c " in $m: " "$RELOC_DIR/host.txt" || true)
    check "$( ((n >= 5)); echo $?)" "btf reloc module.o: $n relocations resolved in $m"
done
check "$(grep -qx '30 relocations, 1 poisoned .*' "$RELOC_DIR/host.txt"; echo $?)" \
    "btf reloc module.o: 30 relocations, 1 poisoned (the guarded veth_priv___future member)"
# Two offsets, by bpftool: a member of veth_priv, and one three structs deep
# in veth_rq (stats.vs.peer_tq_xdp_xmit_err).
raw=$(bpftool -B "$CORPUS/vmlinux.btf" btf dump file "$CORPUS/modules/veth.btf" format raw)
member_bits() { # STRUCT MEMBER: bits_offset in veth's dump
    awk -v s="'$1'" -v m="'$2'" '/^\[/ { here = ($2 == "STRUCT" && $3 == s); next }
        here && $1 == m { sub("bits_offset=", "", $3); print $3; exit }' <<<"$raw"
}
want=$(($(member_bits veth_priv requested_headroom) / 8))
check "$(grep -q "struct veth_priv.requested_headroom (0:2) → .*: 16 → $want (" "$RELOC_DIR/host.txt"; echo $?)" \
    "veth_priv.requested_headroom at byte $want, as bpftool says"
want=$((($(member_bits veth_rq stats) + $(member_bits veth_rq_stats vs) \
    + $(member_bits veth_stats peer_tq_xdp_xmit_err)) / 8))
check "$(grep -q "struct veth_rq.stats.vs.peer_tq_xdp_xmit_err (0:1:0:1) → .*: 16 → $want (" "$RELOC_DIR/host.txt"; echo $?)" \
    "veth_rq.stats.vs.peer_tq_xdp_xmit_err at byte $want, as bpftool says"
