# Sourced by the VM scripts that count checks (run.sh, testmod.sh): the
# counters, the log and the last line.
#
#   TALLY_NAME=vm TALLY_SUMMARY=""      # set first, on their own line
#   source "$SCRIPT_DIR/tally.sh"
#
# TALLY_NAME labels the log lines (`[vm   12s] ...`), TALLY_SUMMARY
# prefixes the last line (`N passed, M failed`). A script may define
# `tally_cleanup` (run first at exit, e.g. to stop its VM). With
# TALLY_QUIET_PASS set, a pass is printed only with VM_VERBOSE=1.

START=$SECONDS
PASSED=0
FAILED=0
log() { printf '[%s %4ds] %s\n' "$TALLY_NAME" $((SECONDS - START)) "$*" >&2; }
pass() {
    PASSED=$((PASSED + 1))
    if [[ -z ${TALLY_QUIET_PASS:-} || ${VM_VERBOSE:-0} == 1 ]]; then echo "PASS $*"; fi
}
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
check() { # STATUS DESCRIPTION: a pass when STATUS is 0 ($? style)
    if [[ $1 == 0 ]]; then pass "$2"; else fail "$2"; fi
}
die() { fail "setup: $*"; exit 1; }
finish() {
    local status=$?
    trap - EXIT
    if declare -F tally_cleanup >/dev/null; then tally_cleanup; fi
    if ((status != 0 && FAILED == 0)); then FAILED=1; fi
    log "done in $((SECONDS - START))s"
    echo "${TALLY_SUMMARY}$PASSED passed, $FAILED failed"
    if ((FAILED > 0)); then exit 1; fi
    exit 0
}
trap finish EXIT
