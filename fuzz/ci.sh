#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short while on a copy of its
# seed corpus (the committed corpus is never grown here), then replays the
# saved reproducers in regressions/. Fails on any crash, leak, timeout or
# out-of-memory.
#
# Environment: FUZZ_TIME (seconds per target, default 30), FUZZ_TARGETS
# (space-separated, default all), BTF_CORPUS (the Debian corpus of
# scripts/fetch-corpus.sh, default ../target/btf-corpus: its vmlinux.btf
# seeds parse when present, as /sys/kernel/btf/vmlinux does when readable;
# neither is committed). Uses the nightly toolchain when it can
# (stable with RUSTC_BOOTSTRAP=1 otherwise); installs cargo-fuzz when it is
# missing.
set -euo pipefail

cd "$(dirname "$0")"
FUZZ_TIME=${FUZZ_TIME:-30}
FUZZ_TARGETS=${FUZZ_TARGETS:-"parse parse_split structured elf modules reloc kernel_check"}
# Per-input limits: a slow unit (> 10 s), more than 2 GiB resident, or a
# single allocation over 512 MiB is a failure.
# FUZZ_TIMEOUT (default 10) is wall time per input: on a loaded machine
# a vmlinux-sized input (4 to 6 CPU s under ASan) can exceed 10 s.
LIMITS=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout="${FUZZ_TIMEOUT:-10}")
BTF_CORPUS=${BTF_CORPUS:-../target/btf-corpus}
source ./seeds.sh

start=$(date +%s)
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
# cargo-fuzz needs nightly rustc flags (sanitizers): the nightly toolchain
# when there is one (or one can be installed), else the stable compiler
# with its unstable features unlocked.
if cargo +nightly --version >/dev/null 2>&1 \
    || timeout 300 rustup toolchain install nightly --profile minimal >/dev/null 2>&1; then
    cargo +nightly fuzz build
else
    echo "fuzz/ci.sh: no nightly toolchain; building with stable and RUSTC_BOOTSTRAP=1"
    RUSTC_BOOTSTRAP=1 cargo fuzz build
fi
echo "fuzz/ci.sh: built in $(( $(date +%s) - start )) s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin_dir=target/x86_64-unknown-linux-gnu/release
status=0
for target in $FUZZ_TARGETS; do
    corpus="$work/$target"
    artifacts="$work/artifacts-$target/"
    mkdir -p "$corpus" "$artifacts"
    cp corpus/"$target"/* "$corpus"/
    kernel_seeds "$target" "$corpus" "$BTF_CORPUS"
    # Saved reproducers of this target (not the .btf blobs kept beside them).
    regressions=()
    for f in regressions/"$target"-*; do
        [[ -f $f && $f != *.btf ]] && regressions+=("$f")
    done
    if (( ${#regressions[@]} > 0 )); then
        echo "fuzz/ci.sh: $target: replaying ${#regressions[@]} reproducer(s)"
        if ! "$bin_dir/$target" "${LIMITS[@]}" "${regressions[@]}" >"$work/$target.replay.log" 2>&1; then
            tail -n 40 "$work/$target.replay.log"
            echo "fuzz/ci.sh: $target: a saved reproducer fails"
            status=1
        fi
    fi
    echo "fuzz/ci.sh: $target: fuzzing for ${FUZZ_TIME}s"
    # shellcheck disable=SC2046 # target_args prints whole flags
    if ! "$bin_dir/$target" "$corpus" "${LIMITS[@]}" $(target_args "$target") -max_total_time="$FUZZ_TIME" \
        -artifact_prefix="$artifacts" -print_final_stats=1 >"$work/$target.log" 2>&1; then
        # The panic message comes well before libFuzzer's stack trace.
        grep -m 1 -A 12 'panicked at' "$work/$target.log" || true
        tail -n 60 "$work/$target.log"
        mkdir -p artifacts/"$target"
        cp "$work/$target.log" artifacts/"$target"/fuzz.log
        for a in "$artifacts"*; do
            [[ -f $a ]] || continue
            mkdir -p artifacts/"$target"
            cp "$a" artifacts/"$target"/
            echo "fuzz/ci.sh: $target: crash saved as fuzz/artifacts/$target/$(basename "$a")"
        done
        echo "fuzz/ci.sh: $target FAILED"
        status=1
    else
        grep -E '^stat::number_of_executed_units|^Done' "$work/$target.log" || true
    fi
done
echo "fuzz/ci.sh: finished in $(( $(date +%s) - start )) s"
exit $status
