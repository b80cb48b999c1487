#!/usr/bin/env bash
# A longer fuzzing campaign: each target in turn, one fuzzer process at a
# time (nice'd), on a working corpus outside git seeded from corpus/<target>.
#
#   fuzz/campaign.sh [seconds per target]      (default 1500)
#
# Environment: FUZZ_WORK (default /work/fuzz-work): corpora in
# $FUZZ_WORK/<target>, logs in $FUZZ_WORK/<target>.log, crashes in
# $FUZZ_WORK/artifacts/<target>/ and listed in $FUZZ_WORK/CRASHES.md;
# BIN_DIR (default: fuzz/target/x86_64-unknown-linux-gnu/release, built by
# `cargo +nightly fuzz build`); FUZZ_TARGETS (default all seven, in order;
# an entry `target:seconds` overrides the time for that target); BTF_CORPUS
# (default fuzz/../target/btf-corpus): kernel-sized seeds for parse, as in
# ci.sh (seeds.sh).
#
# A crash ends a libFuzzer run; the script records it and starts the target
# again on the same corpus for the rest of its time (at most 5 crashes per
# target). A summary line per target (CPU seconds, executions, corpus files
# and bytes) goes to $FUZZ_WORK/summary.tsv.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
per_target=${1:-1500}
FUZZ_WORK=${FUZZ_WORK:-/work/fuzz-work}
BIN_DIR=${BIN_DIR:-$here/target/x86_64-unknown-linux-gnu/release}
FUZZ_TARGETS=${FUZZ_TARGETS:-"parse parse_split structured elf modules reloc kernel_check"}
# FUZZ_TIMEOUT (default 10) is wall time per input: on a loaded machine
# a vmlinux-sized input (4 to 6 CPU s under ASan) can exceed 10 s.
LIMITS=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout="${FUZZ_TIMEOUT:-10}")
BTF_CORPUS=${BTF_CORPUS:-$here/../target/btf-corpus}
source "$here/seeds.sh"
mkdir -p "$FUZZ_WORK"

for entry in $FUZZ_TARGETS; do
    target=${entry%%:*}
    seconds=$per_target
    [[ $entry == *:* ]] && seconds=${entry#*:}
    corpus="$FUZZ_WORK/$target"
    artifacts="$FUZZ_WORK/artifacts/$target/"
    log="$FUZZ_WORK/$target.log"
    mkdir -p "$corpus" "$artifacts"
    cp -n "$here"/corpus/"$target"/* "$corpus"/
    kernel_seeds "$target" "$corpus" "$BTF_CORPUS"
    : >"$log"
    deadline=$(( $(date +%s) + seconds ))
    cpu=0
    execs=0
    crashes=0
    while :; do
        left=$(( deadline - $(date +%s) ))
        (( left > 5 )) || break
        # shellcheck disable=SC2207 # target_args prints whole flags
        cmd=(nice -n 10 "$BIN_DIR/$target" "$corpus" "${LIMITS[@]}" $(target_args "$target") -max_total_time="$left"
             -artifact_prefix="$artifacts" -print_final_stats=1)
        echo "### $(date -u +%FT%TZ) ${cmd[*]}" >>"$log"
        before=$(ls "$artifacts" | wc -l)
        /usr/bin/time -f "### cpu %U %S" -a -o "$log" "${cmd[@]}" >>"$log" 2>&1
        rc=$?
        run_cpu=$(grep '^### cpu' "$log" | tail -n 1 | awk '{ printf "%d", $3 + $4 }')
        cpu=$(( cpu + run_cpu ))
        run_execs=$(grep -a '^stat::number_of_executed_units' "$log" | tail -n 1 | awk '{ print $2 }')
        # A crashed run prints no final stats: take its last status line.
        if [[ $rc -ne 0 ]]; then
            run_execs=$(grep -aoE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
        fi
        execs=$(( execs + ${run_execs:-0} ))
        if [[ $rc -ne 0 ]]; then
            crashes=$(( crashes + 1 ))
            new=$(ls -t "$artifacts" | head -n $(( $(ls "$artifacts" | wc -l) - before )))
            {
                echo "## $target, $(date -u +%FT%TZ), exit $rc"
                echo
                for a in $new; do echo "- artifact: $artifacts$a"; done
                echo
                echo '```'
                grep -aE 'panicked at|^ERROR|SUMMARY|==ERROR|Test unit written|assert|left:|right:|is not|does not|rejects' "$log" | tail -n 12
                echo '```'
                echo
            } >>"$FUZZ_WORK/CRASHES.md"
            (( crashes < 5 )) || break
        fi
    done
    files=$(ls "$corpus" | wc -l)
    bytes=$(du -sb "$corpus" | cut -f1)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$seconds" "$cpu" "$execs" "$files" "$bytes" "$crashes" \
        >>"$FUZZ_WORK/summary.tsv"
done
