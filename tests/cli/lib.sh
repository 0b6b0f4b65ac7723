# shellcheck shell=bash
# Shared prologue and helpers of the end-to-end CLI tests (tests/cli/test_*.sh):
# the checks of what a test needs, the scratch folder removed on exit, the
# pass/fail counters, running the dsuit binary and checking its exit code
# and usage errors, running each test_* function, and the final
# "N passed, M failed" line. Sourced by each test, never run by itself:
#
#     set -u
#     . "$(dirname "$0")/lib.sh" || exit 1
#     require_dsuit
#     make_work
#     ...test_* functions...
#     run_all_tests
#     finish
#
# Exit codes checked by the tests are those of docs/EXIT-CODES.md.

# The test's name, for messages and the scratch folder: test_keygen.
TEST_NAME=$(basename "$0" .sh)

passed=0
failed=0

# Whether run_test runs each test in an empty folder $WORK/<test> of its
# own (1) or in $WORK (0, for tests that build on each other).
TEST_OWN_DIR=1
# If set, run stops the program after this many seconds (exit 124).
RUN_TIMEOUT=

# ---- what a test needs ------------------------------------------------------

# require_dsuit: $DSUIT_BIN names an executable; it is put in $DSUIT.
# Otherwise exit 1 with a message.
require_dsuit() {
    DSUIT=${DSUIT_BIN:-}
    if [[ -z $DSUIT || ! -x $DSUIT ]]; then
        echo "$TEST_NAME: DSUIT_BIN is not set or not executable: '$DSUIT'" >&2
        exit 1
    fi
}

# require_tool TOOL [WHY]: TOOL is on the PATH, or exit 1 saying
# "TOOL is needed WHY".
require_tool() {
    if ! command -v "$1" >/dev/null; then
        echo "$TEST_NAME: $1 is needed${2:+ $2}" >&2
        exit 1
    fi
}

# make_work [CLEANUP]: make the scratch folder $WORK, install the EXIT trap
# CLEANUP (by default remove_work, which removes $WORK) and cd into $WORK.
# A CLEANUP given here must also remove $WORK; it may be defined later.
# shellcheck disable=SC2120  # CLEANUP is optional
make_work() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$TEST_NAME.XXXXXX") || exit 1
    # shellcheck disable=SC2064  # the name is meant to be expanded now
    trap "${1:-remove_work}" EXIT
    cd "$WORK" || exit 1
}

remove_work() {
    rm -rf "$WORK"
}

# ---- helpers ----------------------------------------------------------------

# fail MESSAGE: print a failure reason; the test function then returns 1.
fail() {
    echo "    $*" >&2
    return 1
}

# run ARGS...: run the program, leaving $out, $err and $rc.
run() {
    if [[ -n $RUN_TIMEOUT ]]; then
        timeout "$RUN_TIMEOUT" "$DSUIT" "$@" >"$WORK/.out" 2>"$WORK/.err"
    else
        "$DSUIT" "$@" >"$WORK/.out" 2>"$WORK/.err"
    fi
    rc=$?
    out=$(cat "$WORK/.out")
    err=$(cat "$WORK/.err")
}

# expect_rc CODE: the last run exited with CODE.
expect_rc() {
    [[ $rc -eq $1 ]] || fail "expected exit $1, got $rc; stdout: $out; stderr: $err"
}

# pid_running PID: the process exists and is not a zombie.
pid_running() {
    local state
    state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)
    [[ -n $state && $state != Z ]]
}

# devnet_stop DIR: `devnet down` the devnet this test made in DIR, then
# SIGKILL any of its nodes still running (only pids in DIR/devnet.pids whose
# command line is a node of DIR: never another test's processes).
devnet_stop() {
    local dir=$1 pid cmdline
    [[ -f $dir/genesis.cbor ]] || return 0
    timeout 30 "$DSUIT" devnet down --dir "$dir" >/dev/null 2>&1
    [[ -f $dir/devnet.pids ]] || return 0
    while read -r pid; do
        if ! [[ $pid =~ ^[0-9]+$ ]] || ! pid_running "$pid"; then
            continue
        fi
        cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
        [[ $cmdline == *"node run --data $dir/"* ]] &&
            kill -KILL "$pid" 2>/dev/null
    done <"$dir/devnet.pids"
    return 0
}

# line_count TEXT: how many lines TEXT has (0 for the empty string).
line_count() {
    if [[ -z $1 ]]; then echo 0; else printf '%s\n' "$1" | wc -l; fi
}

# key_id FILE: the key id `dsuit key show FILE --json` reports.
key_id() {
    "$DSUIT" key show "$1" --json | jq -r .key_id
}

# expect_usage_message "cmd words" "message part" ARGS...: run ARGS; exit 2,
# nothing on stdout, two stderr lines: "dsuit <cmd words>: " with the
# message part somewhere after it, then the hint "try 'dsuit <cmd> --help'".
expect_usage_message() {
    local cmd=$1 want=$2
    shift 2
    run "$@"
    expect_rc 2 || return 1
    [[ -z $out ]] || fail "$*: stdout not empty: $out" || return 1
    [[ $(line_count "$err") -eq 2 ]] || fail "$*: stderr: $err" || return 1
    [[ $(head -n1 <<<"$err") == "dsuit $cmd: "*"$want"* ]] ||
        fail "$*: first line: $err (want '$want')" || return 1
    [[ $(tail -n1 <<<"$err") == "try 'dsuit $cmd --help'" ]] ||
        fail "$*: hint: $err"
}

# expect_usage_error "cmd words" ARGS...: as expect_usage_message, with any
# message.
expect_usage_error() {
    local cmd=$1
    shift
    expect_usage_message "$cmd" "" "$@"
}

# expect_help "args"...: each "args" (split on spaces) exits 0 with a usage
# on stdout and nothing on stderr.
expect_help() {
    local args
    for args in "$@"; do
        # shellcheck disable=SC2086 # split on purpose
        run $args
        expect_rc 0 || return 1
        [[ $out == usage:* ]] || fail "dsuit $args: stdout: $out" || return 1
        [[ -z $err ]] || fail "dsuit $args: stderr: $err" || return 1
    done
}

# ---- running the tests ------------------------------------------------------

# run_test NAME: run the function NAME (see TEST_OWN_DIR), count and print
# its result, and come back to $WORK.
run_test() {
    local name=$1
    if [[ $TEST_OWN_DIR -eq 1 ]]; then
        mkdir -p "$WORK/$name" && cd "$WORK/$name" || exit 1
    fi
    if "$name"; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name"
    fi
    cd "$WORK" || exit 1
}

# run_all_tests: run_test every function named test_*, in name order.
run_all_tests() {
    local t
    for t in $(declare -F | awk '$3 ~ /^test_/ {print $3}'); do
        run_test "$t"
    done
}

# finish: print "N passed, M failed"; true only if all passed and at least
# one ran. Call it last, so that it gives the script's exit status.
finish() {
    echo "$passed passed, $failed failed"
    [[ $failed -eq 0 && $passed -gt 0 ]]
}
