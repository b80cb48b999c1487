# Sourced by ci.sh and campaign.sh: kernel-sized seeds, which are not
# committed (a vmlinux is 5 to 6 MB), and the flags a target needs for them.

# kernel_seeds TARGET DIR CORPUS: for `parse`, copies the running kernel's
# BTF (/sys/kernel/btf/vmlinux, when readable) and the Debian corpus's
# vmlinux (CORPUS/vmlinux.btf, when present) into the working corpus DIR,
# keeping a file already there.
kernel_seeds() {
    local target=$1 dir=$2 corpus=$3
    [[ $target == parse ]] || return 0
    local kernel="$dir/kernel-vmlinux-$(uname -r)"
    if [[ -r /sys/kernel/btf/vmlinux && ! -e $kernel ]]; then
        { cp /sys/kernel/btf/vmlinux "$kernel" && chmod u+w "$kernel"; } \
            || echo "seeds.sh: could not copy /sys/kernel/btf/vmlinux" >&2
    fi
    if [[ -f $corpus/vmlinux.btf && ! -e $dir/debian-vmlinux.btf ]]; then
        cp "$corpus/vmlinux.btf" "$dir/debian-vmlinux.btf" \
            || echo "seeds.sh: could not copy $corpus/vmlinux.btf" >&2
    fi
    return 0
}

# target_args TARGET: extra libFuzzer flags. Without -max_len, libFuzzer
# takes the largest seed's size, at least 4096 and at most 1 MiB, and cuts
# longer seeds to it: `parse` gets 16 MiB, so that a whole vmlinux is run
# and mutated.
target_args() {
    case $1 in
        parse) echo "-max_len=16777216" ;;
    esac
}
