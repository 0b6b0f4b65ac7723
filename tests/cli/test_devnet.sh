#!/usr/bin/env bash
# End-to-end tests of `dsuit devnet` against the built binary ($DSUIT_BIN):
# a 4-node devnet is made and started in the background, watched producing
# and certifying blocks, refused a second start, stopped, restarted on the
# same chain and stopped again; a devnet whose node cannot start, the
# foreground mode, pids that are not nodes, and bad command lines.
#
# The tests of the main devnet run in order and build on each other. Every
# wait is bounded, and the EXIT trap stops every devnet made here with
# `dsuit devnet down`, then SIGKILLs any pid still listed in a devnet.pids
# that is still that devnet's node: nothing is left running, and no other
# process is touched. Exit codes are those of docs/EXIT-CODES.md.
set -u

. "$(dirname "$0")/lib.sh" || exit 1
require_dsuit
for tool in jq timeout sha256sum; do
    require_tool "$tool"
done

DECOY_PID=      # a process no devnet command may touch
FG_PID=         # a foreground `devnet up` started by a test

# A pid runs (a zombie, which only waits for its parent to reap it, does
# Whether pid $1 is `dsuit node run` on a data folder under $2.
pid_is_node_of() {
    local cmdline
    cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *"node run --data $2/"* ]]
}

cleanup() {
    local dir pid
    if [[ -n $FG_PID ]] && pid_running "$FG_PID"; then
        kill -TERM "$FG_PID" 2>/dev/null
        wait "$FG_PID" 2>/dev/null
    fi
    for dir in "$WORK"/*/; do
        dir=${dir%/}
        [[ -f $dir/genesis.cbor ]] || continue
        timeout 30 "$DSUIT" devnet down --dir "$dir" >/dev/null 2>&1
        # Belt and braces: only pids of this devnet's own nodes.
        if [[ -f $dir/devnet.pids ]]; then
            while read -r pid; do
                [[ $pid =~ ^[0-9]+$ ]] || continue
                if pid_running "$pid" && pid_is_node_of "$pid" "$dir"; then
                    kill -KILL "$pid" 2>/dev/null
                fi
            done <"$dir/devnet.pids"
        fi
    done
    [[ -n $DECOY_PID ]] && kill "$DECOY_PID" 2>/dev/null
    rm -rf "$WORK"
}
make_work cleanup
trap 'exit 1' INT TERM
D=$WORK/D       # the main devnet
# The tests of the main devnet build on each other: all run in $WORK.
TEST_OWN_DIR=0
RUN_TIMEOUT=60  # run: at most 60 s

# ---- helpers ---------------------------------------------------------------

# The pids in DIR/devnet.pids, one per line.
pids_of() {
    cat "$1/devnet.pids" 2>/dev/null
}

# wait_gone SECONDS PID...: every pid stops running within SECONDS.
wait_gone() {
    local limit=$(($1 * 10)) i pid left
    shift
    for ((i = 0; i < limit; i++)); do
        left=
        for pid in "$@"; do
            pid_running "$pid" && left="$left $pid"
        done
        [[ -z $left ]] && return 0
        sleep 0.1
    done
    fail "still running after $limit tenths of a second:$left"
}

# status_json DIR: `devnet status --json`, into $sj (exit code in $rc).
status_json() {
    run devnet status --dir "$1" --json
    sj=$out
}

# min_of FIELD: smallest .nodes[].FIELD of $sj (null counts as -1).
min_of() {
    jq -r "[.nodes[].$1 // -1] | min" <<<"$sj"
}

max_of() {
    jq -r "[.nodes[].$1 // -1] | max" <<<"$sj"
}

# ---- command line ------------------------------------------------------------

test_bad_options_exit_2_and_make_nothing() {
    expect_usage_error devnet devnet || return 1
    expect_usage_error devnet devnet start || return 1
    expect_usage_error "devnet up" devnet up --dir bad --nodes 0 || return 1
    expect_usage_error "devnet up" devnet up --dir bad --nodes 65 || return 1
    expect_usage_error "devnet up" devnet up --dir bad --nodes four || return 1
    expect_usage_error "devnet up" devnet up --dir bad --nodes -1 || return 1
    expect_usage_error "devnet up" devnet up --dir bad --registrars 0 ||
        return 1
    expect_usage_error "devnet up" devnet up --dir bad --threshold 2 ||
        return 1
    expect_usage_error "devnet up" devnet up --dir bad --registrars 2 \
        --threshold 3 || return 1
    expect_usage_error "devnet up" devnet up --dir bad --heartbeat-ms 5 ||
        return 1
    expect_usage_error "devnet up" devnet up --dir bad --heartbeat-ms '' ||
        return 1
    expect_usage_error "devnet up" devnet up --dir bad --nodes || return 1
    expect_usage_error "devnet up" devnet up --dir bad --detach=yes || return 1
    expect_usage_error "devnet up" devnet up --dir bad --frob || return 1
    expect_usage_error "devnet up" devnet up --dir bad extra || return 1
    expect_usage_error "devnet up" devnet up --dir '' || return 1
    expect_usage_error "devnet status" devnet status --dir bad --frob ||
        return 1
    expect_usage_error "devnet status" devnet status --dir bad extra ||
        return 1
    expect_usage_error "devnet down" devnet down --dir bad --json || return 1
    expect_usage_error "devnet down" devnet down --dir bad extra || return 1
    [[ ! -e bad ]] || fail "a usage error made the folder 'bad'"
}

test_help_of_every_verb_exits_0_on_stdout() {
    local verb
    run devnet --help
    expect_rc 0 || return 1
    [[ $out == "usage: dsuit devnet up"* && -z $err ]] ||
        fail "devnet --help: $out $err" || return 1
    for verb in up status down; do
        run devnet "$verb" --help
        expect_rc 0 || return 1
        [[ $out == "usage: dsuit devnet $verb"* && -z $err ]] ||
            fail "$verb --help: $out $err" || return 1
    done
    [[ ! -e devnet ]] || fail "--help made a folder"
}

test_status_and_down_fail_where_there_is_no_devnet() {
    mkdir empty
    run devnet status --dir empty
    expect_rc 1 || return 1
    [[ $err == "dsuit devnet status: no devnet in 'empty': "* ]] ||
        fail "status: $err" || return 1
    run devnet down --dir missing
    expect_rc 1 || return 1
    [[ $err == "dsuit devnet down: cannot open 'missing': "* ]] ||
        fail "down: $err"
}

# ---- the main devnet, in order ---------------------------------------------

GENESIS_HASH=
HEIGHT_AT_DOWN=
HEIGHTS_AT_DOWN=

test_up_detach_makes_and_starts_4_nodes() {
    local i out_lines
    # $(...) returns only once every process holding stdout has closed it:
    # the nodes must not keep `up`'s stdout.
    out=$(timeout 60 "$DSUIT" devnet up --nodes 4 --dir D --detach \
        --heartbeat-ms 300 2>"$WORK/.err")
    rc=$?
    err=$(cat "$WORK/.err")
    expect_rc 0 || return 1
    [[ -z $err ]] || fail "stderr: $err" || return 1
    [[ $out == "devnet 'D' is up: 4 nodes, leader node-"* ]] ||
        fail "first line: $out" || return 1
    out_lines=$(grep -c '^  http:  http://127\.0\.0\.1:[0-9]*$' <<<"$out")
    [[ $out_lines -eq 4 ]] || fail "http URLs: $out" || return 1
    out_lines=$(grep -c '^  coap:  coaps://127\.0\.0\.1:[0-9]*$' <<<"$out")
    [[ $out_lines -eq 4 ]] || fail "coap URLs: $out" || return 1
    [[ $out == *"key:   D/node-1.key"* ]] || fail "key path: $out" || return 1
    [[ $out == *"registrar keys: D/registrar-1.key (threshold 1 of 1)"* ]] ||
        fail "registrar line: $out" || return 1
    [[ $out == *"dsuit devnet down --dir D"* ]] || fail "how to stop: $out" ||
        return 1

    [[ $(pids_of D | wc -l) -eq 4 ]] || fail "devnet.pids: $(pids_of D)" ||
        return 1
    for pid in $(pids_of D); do
        pid_running "$pid" && pid_is_node_of "$pid" "$D" ||
            fail "pid $pid is not a running node" || return 1
    done
    for i in 1 2 3 4; do
        [[ $(stat -c %a "D/node-$i.key") == 600 ]] ||
            fail "node-$i.key mode" || return 1
        [[ $(stat -c %a "D/node-$i/node.key") == 600 ]] ||
            fail "node-$i/node.key mode" || return 1
        [[ -f D/node-$i.pub && -d D/node-$i/ledger && -s D/node-$i/node.log ]] ||
            fail "node-$i files" || return 1
        cmp -s D/genesis.cbor "D/node-$i/genesis.cbor" ||
            fail "node-$i has another genesis" || return 1
    done
    [[ -f D/registrar-1.key && -f D/registrar-1.pub ]] ||
        fail "registrar key files" || return 1
    run genesis show D/genesis.cbor --json
    expect_rc 0 || return 1
    jq -e '(.validators | length) == 4 and
           ([.validators[].host] | unique) == ["127.0.0.1"] and
           ([.validators[] | .raft_port, .http_port, .coap_port] |
                all(. > 0)) and
           ([.validators[] | .raft_port, .http_port] | unique | length) == 8 and
           ([.validators[].name] == ["node-1","node-2","node-3","node-4"]) and
           (.registrars | length) == 1 and .threshold == 1 and
           .policy.heartbeat_ms == 300 and .policy.replicas == 3 and
           .policy.quorum == 3' <<<"$out" >/dev/null ||
        fail "genesis: $out" || return 1
    GENESIS_HASH=$(sha256sum D/genesis.cbor | cut -d' ' -f1)
    [[ $out == *"\"chain_id\": \"$GENESIS_HASH\""* ]] ||
        fail "chain id is not the genesis hash"
}

test_status_json_shows_4_running_nodes_and_exactly_one_leader() {
    local leader
    status_json D
    expect_rc 0 || return 1
    jq -e '(.nodes | length) == 4 and all(.nodes[]; .running == true and
                .error == null and (.pid | type) == "number")' <<<"$sj" \
        >/dev/null || fail "nodes: $sj" || return 1
    [[ $(jq '[.nodes[] | select(.role == "leader")] | length' <<<"$sj") -eq 1 ]] ||
        fail "not exactly one leader: $sj" || return 1
    leader=$(jq -r '.nodes[] | select(.role == "leader") | .name' <<<"$sj")
    jq -e --arg l "$leader" 'all(.nodes[]; .leader == $l)' <<<"$sj" \
        >/dev/null || fail "nodes disagree on the leader ($leader): $sj" ||
        return 1
    [[ $(jq -r .chain_id <<<"$sj") == "$GENESIS_HASH" ]] ||
        fail "chain id: $sj"
}

test_status_text_has_a_line_per_node() {
    run devnet status --dir D
    expect_rc 0 || return 1
    [[ $(grep -cE '^node-[1-4] +[0-9]+ +yes +(leader|follower) ' <<<"$out") -eq 4 ]] ||
        fail "table: $out"
}

test_heights_rise_over_2_s_and_certified_heights_follow() {
    local h0 h1 c0 c1
    status_json D
    expect_rc 0 || return 1
    h0=$(min_of height)
    c0=$(min_of certified_height)
    sleep 2
    status_json D
    expect_rc 0 || return 1
    h1=$(min_of height)
    c1=$(min_of certified_height)
    # A 300 ms heartbeat gives about 6 empty blocks in 2 s.
    ((h1 >= h0 + 2)) || fail "heights did not rise: $h0 -> $h1" || return 1
    ((c1 > c0)) || fail "certified heights did not rise: $c0 -> $c1" ||
        return 1
    # Certified: never above the height, and caught up with where the
    # chain was 2 s before.
    jq -e 'all(.nodes[]; .certified_height <= .height)' <<<"$sj" >/dev/null ||
        fail "a certified height above the height: $sj" || return 1
    ((c1 >= h0)) || fail "certified $c1 lags height $h0 of 2 s ago" ||
        return 1
}

test_up_again_while_running_exits_1() {
    local before
    before=$(pids_of D)
    run devnet up --dir D --detach --nodes 3
    expect_rc 1 || return 1
    [[ $err == *"dsuit devnet up: warning: 'D' already holds a devnet: --nodes"* ]] ||
        fail "no warning about --nodes: $err" || return 1
    [[ $err == *"dsuit devnet up: cannot start 'D': already running"* ]] ||
        fail "message: $err" || return 1
    [[ $(pids_of D) == "$before" ]] || fail "devnet.pids changed" || return 1
    for pid in $before; do
        pid_running "$pid" || fail "node $pid stopped" || return 1
    done
}

test_down_stops_the_nodes_and_only_them() {
    local pids
    sleep 300 &
    DECOY_PID=$!
    status_json D
    HEIGHT_AT_DOWN=$(max_of height)
    HEIGHTS_AT_DOWN=$(jq -c '[.nodes[] | {(.name): .height}] | add' <<<"$sj")
    pids=$(pids_of D)
    run devnet down --dir D
    expect_rc 0 || return 1
    [[ $out == "devnet 'D' stopped: 4 nodes; data kept"* ]] ||
        fail "output: $out" || return 1
    # shellcheck disable=SC2086 # one pid per word
    wait_gone 10 $pids || return 1
    [[ ! -e D/devnet.pids ]] || fail "devnet.pids is still there" || return 1
    pid_running "$DECOY_PID" || fail "down stopped an unrelated process" ||
        return 1
    [[ -f D/genesis.cbor && -d D/node-1/ledger && -f D/node-1.key ]] ||
        fail "data was not kept" || return 1
    status_json D
    expect_rc 1 || return 1
    jq -e 'all(.nodes[]; .running == false and .height == null)' <<<"$sj" \
        >/dev/null || fail "status after down: $sj"
}

test_down_when_stopped_exits_0() {
    run devnet down --dir D
    expect_rc 0 || return 1
    [[ $out == "devnet 'D' was not running" ]] || fail "output: $out"
}

test_down_never_signals_a_listed_pid_that_is_not_its_node() {
    # Pids the system may have handed to other programs since: the decoy,
    # this shell. Neither runs `dsuit node run --data D/...`.
    printf '%s\n%s\n' "$DECOY_PID" "$$" >D/devnet.pids
    run devnet down --dir D
    expect_rc 0 || return 1
    [[ $out == "devnet 'D' was not running" ]] || fail "output: $out" ||
        return 1
    pid_running "$DECOY_PID" || fail "the decoy was signalled" || return 1
    [[ ! -e D/devnet.pids ]] || fail "devnet.pids is still there"
}

test_up_restarts_the_same_chain_where_it_stopped() {
    local h i
    run devnet up --dir D --detach
    expect_rc 0 || return 1
    [[ -z $err ]] || fail "stderr: $err" || return 1
    [[ $(sha256sum D/genesis.cbor | cut -d' ' -f1) == "$GENESIS_HASH" ]] ||
        fail "genesis changed" || return 1
    [[ $out == *"chain id: $GENESIS_HASH"* ]] || fail "chain id: $out" ||
        return 1
    status_json D
    expect_rc 0 || return 1
    # Nothing lost: every node starts at least where it stopped (a follower
    # may have stopped a block behind the leader, and catches up next).
    local lost
    [[ -n $HEIGHTS_AT_DOWN ]] || fail "no heights recorded at down" || return 1
    lost=$(jq -r --argjson before "$HEIGHTS_AT_DOWN" \
        '.nodes[] | select(.height < $before[.name]) |
         "\(.name) \(.height) < \($before[.name])"' <<<"$sj") ||
        fail "cannot compare heights: $sj" || return 1
    [[ -z $lost ]] || fail "a node restarted below its height at down: $lost" ||
        return 1
    # The chain goes on past the highest height at down (polled: at most
    # 30 s, the machine may be busy).
    for ((i = 0; i < 60; i++)); do
        status_json D
        h=$(min_of height)
        ((h > HEIGHT_AT_DOWN)) && break
        sleep 0.5
    done
    ((h > HEIGHT_AT_DOWN)) ||
        fail "the chain did not continue past $HEIGHT_AT_DOWN: $h" || return 1
    [[ $(jq '[.nodes[] | select(.role == "leader")] | length' <<<"$sj") -eq 1 ]] ||
        fail "not exactly one leader: $sj"
}

test_down_stops_the_restarted_devnet() {
    local pids
    pids=$(pids_of D)
    [[ -n $pids ]] || fail "no devnet.pids" || return 1
    run devnet down --dir D
    expect_rc 0 || return 1
    # shellcheck disable=SC2086
    wait_gone 10 $pids || return 1
    [[ ! -e D/devnet.pids ]] || fail "devnet.pids is still there" || return 1
    # What a sanitizer build of a node reports lands in its log.
    ! grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' D/node-*/node.log ||
        fail "a node log holds a sanitizer report: $(grep -lE 'Sanitizer|runtime error:' D/node-*/node.log)"
}

# ---- other devnets ------------------------------------------------------------

test_up_fails_naming_the_node_that_cannot_start_and_stops_the_rest() {
    local node1
    run devnet up --nodes 2 --dir E --detach --heartbeat-ms 300
    expect_rc 0 || return 1
    run devnet down --dir E
    expect_rc 0 || return 1
    # node-2 loses its key: it cannot start, and node-1 alone has no
    # leader.
    rm E/node-2/node.key
    run devnet up --dir E --detach
    expect_rc 1 || return 1
    [[ $(printf '%s\n' "$err" | head -n1) == "dsuit devnet up: cannot start node 'node-2': it exited with status 1" ]] ||
        fail "message: $err" || return 1
    [[ $err == *"last lines of '$WORK/E/node-2/node.log':"* &&
        $err == *"node.key"* ]] || fail "no log tail: $err" || return 1
    [[ ! -e E/devnet.pids ]] || fail "devnet.pids left behind" || return 1
    node1=$(pgrep -f "node run --data $WORK/E/node-1 " || true)
    for pid in $node1; do
        if pid_running "$pid"; then
            fail "node-1 ($pid) still runs"
            return 1
        fi
    done
    return 0
}

test_up_in_the_foreground_stops_its_nodes_on_sigterm() {
    local i pid
    timeout 120 "$DSUIT" devnet up --nodes 1 --dir F --heartbeat-ms 300 \
        >"$WORK/fg.out" 2>"$WORK/fg.err" &
    FG_PID=$!
    for ((i = 0; i < 300; i++)); do
        grep -q "is up" "$WORK/fg.out" 2>/dev/null && break
        pid_running "$FG_PID" || break
        sleep 0.1
    done
    grep -q "^devnet 'F' is up: 1 nodes" "$WORK/fg.out" ||
        fail "not up: $(cat "$WORK/fg.out" "$WORK/fg.err")" || return 1
    grep -q "stop: Ctrl-C here" "$WORK/fg.out" || fail "no Ctrl-C hint" ||
        return 1
    pid=$(pids_of F)
    pid_running "$pid" || fail "node not running" || return 1
    kill -TERM "$FG_PID"
    for ((i = 0; i < 150; i++)); do
        pid_running "$FG_PID" || break
        sleep 0.1
    done
    if pid_running "$FG_PID"; then
        fail "up still runs 15 s after SIGTERM"
        return 1
    fi
    wait "$FG_PID"
    rc=$?
    FG_PID=
    [[ $rc -eq 0 ]] || fail "up exited $rc: $(cat "$WORK/fg.err")" ||
        return 1
    wait_gone 1 "$pid" || return 1
    [[ ! -e F/devnet.pids ]] || fail "devnet.pids left behind"
}

test_up_refuses_a_folder_with_an_unfinished_devnet() {
    mkdir G && touch G/node-1.key
    run devnet up --dir G --detach
    expect_rc 1 || return 1
    [[ $err == "dsuit devnet up: cannot make a devnet in 'G': "* ]] ||
        fail "message: $err" || return 1
    [[ ! -e G/genesis.cbor ]] || fail "a genesis was written"
}

# ---- run -------------------------------------------------------------------

for t in \
    test_bad_options_exit_2_and_make_nothing \
    test_help_of_every_verb_exits_0_on_stdout \
    test_status_and_down_fail_where_there_is_no_devnet \
    test_up_detach_makes_and_starts_4_nodes \
    test_status_json_shows_4_running_nodes_and_exactly_one_leader \
    test_status_text_has_a_line_per_node \
    test_heights_rise_over_2_s_and_certified_heights_follow \
    test_up_again_while_running_exits_1 \
    test_down_stops_the_nodes_and_only_them \
    test_down_when_stopped_exits_0 \
    test_down_never_signals_a_listed_pid_that_is_not_its_node \
    test_up_restarts_the_same_chain_where_it_stopped \
    test_down_stops_the_restarted_devnet \
    test_up_fails_naming_the_node_that_cannot_start_and_stops_the_rest \
    test_up_in_the_foreground_stops_its_nodes_on_sigterm \
    test_up_refuses_a_folder_with_an_unfinished_devnet; do
    run_test "$t"
done
# Every test function is in the list above.
if [[ $(declare -F | awk '$3 ~ /^test_/' | wc -l) -ne 16 ]]; then
    failed=$((failed + 1))
    echo "FAIL the run list misses a test_ function"
fi
finish
