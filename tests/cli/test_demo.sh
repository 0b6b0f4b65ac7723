#!/usr/bin/env bash
# `dsuit demo` (docs/cli/dsuit-demo.md) end to end: it runs the whole
# procedure on a 4-node devnet it starts itself, passes every step, prints
# the publish phases and a summary, and leaves nothing behind: its folder is
# removed and no node of it still runs. With --keep the folder stays, and
# the node logs show what the demo reported. Bad command lines exit 2.
set -u

. "$(dirname "$0")/lib.sh" || exit 1
require_dsuit
make_work
RUN_TIMEOUT=170

# demo_dir TEXT: the folder the demo says it works in.
demo_dir() {
    sed -n 's/^(draft-lee-suit-distarch, Figure 3), in //p' <<<"$1"
}

# no_node_of DIR: no running process is a node of DIR.
no_node_of() {
    local pid
    for pid in $(pgrep -f "node run --data $1/" || true); do
        fail "node pid $pid of $1 still runs" || return 1
    done
}

test_the_demo_passes_every_step_and_cleans_up() {
    local dir step
    TMPDIR=$WORK run demo
    expect_rc 0 || return 1
    dir=$(demo_dir "$out")
    [[ $dir == "$WORK"/dsuit-demo-* ]] || fail "folder: $out" || return 1
    for step in "registrars register the author" \
        "registration check + manifest verification" "image upload" \
        "chunk distribution" "every node verifies the image" \
        "commit certificate" "PSK device updates" "RPK device updates" \
        "the author disappears" "a third device still updates"; do
        grep -q "^  *$step .* ok$" <<<"$out" || fail "step '$step': $out" ||
            return 1
    done
    grep -q "FAILED" <<<"$out" && { fail "a step failed: $out"; return 1; }
    grep -q "^  total .* passed$" <<<"$out" || fail "total: $out" || return 1
    # The third device came from node-4, after node-2 did not answer.
    grep -q "a third device still updates.*(after node-2 did not answer)" \
        <<<"$out" || fail "failover: $out" || return 1
    [[ ! -e $dir ]] || fail "$dir was left behind" || return 1
    no_node_of "$dir"
}

test_keep_leaves_the_folder_and_its_logs() {
    local dir
    TMPDIR=$WORK run demo --keep
    expect_rc 0 || return 1
    dir=$(demo_dir "$out")
    [[ -d $dir/net ]] || fail "kept: $out" || return 1
    grep -q "manifest checked" "$dir/net/node-2/node.log" ||
        fail "node-2 log lacks the registration check" || return 1
    for n in 1 3 4; do
        grep -q "images check out" "$dir/net/node-$n/node.log" ||
            fail "node-$n did not check the image" || return 1
    done
    no_node_of "$dir"
}

test_demo_fails_when_its_temporary_folder_cannot_be_made() {
    TMPDIR=$PWD/missing "$DSUIT" demo >demo.out 2>demo.err
    local rc=$?
    [[ $rc -eq 1 ]] || fail "exit $rc" || return 1
    [[ $(cat demo.err) == "dsuit demo: cannot create folder in '$PWD/missing': No such file or directory" ]] ||
        fail "stderr: $(cat demo.err)"
}

test_bad_command_lines_exit_2() {
    expect_usage_error demo demo --nope || return 1
    expect_usage_error demo demo extra || return 1
    expect_help "demo --help" "demo -h"
}

run_all_tests
finish
