#!/usr/bin/env bash
# End-to-end tests of `dsuit store status` (docs/cli/dsuit-store.md): bad
# command lines; a node that is not listening, one that never answers, and
# stub nodes answering an error status or something that is not the JSON of
# GET /v1/store; then a real 4-node devnet on 127.0.0.1, first fresh (no
# chunks) and then after one two-chunk image was published through it, when
# the nodes together hold each chunk on exactly `replicas` validators.
#
# The devnet tests run in order and build on each other. Every wait is
# bounded; the EXIT trap stops the devnet with `dsuit devnet down` (then
# SIGKILLs any pid of its devnet.pids that is still that devnet's node) and
# the stub, by its pid: nothing else is touched. Exit codes are those of
# docs/EXIT-CODES.md.
set -u

. "$(dirname "$0")/lib.sh" || exit 1
require_dsuit
for tool in jq python3 timeout; do
    require_tool "$tool"
done

STUB_PID=

# A pid runs (a zombie, which only waits for its parent to reap it, does
cleanup() {
    if [[ -n $STUB_PID ]]; then
        kill -TERM "$STUB_PID" 2>/dev/null
        wait "$STUB_PID" 2>/dev/null
    fi
    devnet_stop "$WORK/D"
    rm -rf "$WORK"
}
make_work cleanup
trap 'exit 1' INT TERM
RUN_TIMEOUT=60 # run: at most 60 s


# expect_failure URL "message part": `store status --node URL --timeout 2`
# exits 1 with nothing on stdout and exactly one stderr line
# "dsuit store status: ..." containing the message part.
expect_failure() {
    local url=$1 want=$2
    run store status --node "$url" --timeout 2
    expect_rc 1 || return 1
    [[ -z $out ]] || fail "$url: stdout not empty: $out" || return 1
    [[ $(line_count "$err") -eq 1 ]] || fail "$url: stderr: $err" || return 1
    [[ $err == "dsuit store status: "*"$want"* ]] ||
        fail "$url: stderr: $err (want '$want')"
}

# ---- command line ------------------------------------------------------------

test_bad_command_lines_exit_2_with_the_hint() {
    local url=http://127.0.0.1:9
    expect_usage_message store "missing verb" store || return 1
    expect_usage_message store "unknown verb 'show'" store show || return 1
    expect_usage_message store "unknown option '--node'" store --node "$url" ||
        return 1
    expect_usage_message "store status" "missing option '--node'" \
        store status || return 1
    expect_usage_message "store status" "missing option '--node'" \
        store status --json || return 1
    expect_usage_message "store status" "needs an argument" \
        store status --node || return 1
    expect_usage_message "store status" "unknown option '--frob'" \
        store status --node "$url" --frob || return 1
    expect_usage_message "store status" "unexpected argument 'extra'" \
        store status --node "$url" extra || return 1
    expect_usage_message "store status" "takes no argument" \
        store status --node "$url" --json=yes || return 1
    local bad
    for bad in '' 127.0.0.1:9 ftp://127.0.0.1:9 http:// "$url/v1/store" \
        "$url?x=1" 'http://a b:9' http://user@127.0.0.1:9; do
        expect_usage_message "store status" "'--node' needs a URL" \
            store status --node "$bad" || return 1
    done
    for bad in 0 -1 abc 1e3 86401 '' 1.2.3; do
        expect_usage_message "store status" "option '--timeout' needs seconds" \
            store status --node "$url" --timeout "$bad" || return 1
    done
}

test_help_exits_0_on_stdout() {
    expect_help "store --help" "store -h" "store status --help" \
        "store status -h" || return 1
    run store status --help
    [[ $out == "usage: dsuit store status --node URL"* ]] ||
        fail "status --help: $out" || return 1
    # --help wins over what else is wrong on the line, as in other commands.
    run store status --node bad --help
    expect_rc 0 || return 1
    run --help
    [[ $out == *"  store      show what a node's chunk store holds"* ]] ||
        fail "dsuit --help does not list store: $out"
}

# ---- nodes that do not answer as they should -----------------------------------

# A port nobody listens on: bound to find it, then closed.
free_port() {
    python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

test_a_port_nobody_listens_on_exits_1() {
    local port url
    port=$(free_port) || fail "no free port" || return 1
    url=http://127.0.0.1:$port
    expect_failure "$url" "cannot reach '$url': cannot connect" || return 1
    # A trailing '/' is allowed; the message names the URL without it.
    expect_failure "$url/" "cannot reach '$url': cannot connect"
}

# The stub: one python3 process, one port per way of answering wrongly;
# "silent" accepts connections and never answers. Its ports, as
# "mode port" lines, go to stub.ports once all listen. Started by the first
# test that needs it.
ensure_stub() {
    [[ -n $STUB_PID ]] && return 0
    python3 - "$WORK/stub.ports" <<'EOF' 2>"$WORK/stub.log" &
import http.server, socket, sys, threading

ANSWERS = {
    "not-found": (404, b'{"error":"not-found","message":"no such route"}'),
    "server-error": (500, b"oops"),
    "not-json": (200, b"<html>hello</html>"),
    "array": (200, b"[1, 2, 3]"),
    "no-node": (200, b'{"chunks":0,"bytes":0,"replicas":3,'
                     b'"published_chunks":0,"under_replicated":0,'
                     b'"repaired":0}'),
    "missing-key": (200, b'{"node":"n","chunks":0,"bytes":0,"replicas":3,'
                         b'"published_chunks":0,"under_replicated":0}'),
    "negative": (200, b'{"node":"n","chunks":-1,"bytes":0,"replicas":3,'
                      b'"published_chunks":0,"under_replicated":0,'
                      b'"repaired":0}'),
    "string-number": (200, b'{"node":"n","chunks":0,"bytes":"0",'
                           b'"replicas":3,"published_chunks":0,'
                           b'"under_replicated":0,"repaired":0}'),
    "fraction": (200, b'{"node":"n","chunks":0,"bytes":0,"replicas":3.5,'
                      b'"published_chunks":0,"under_replicated":0,'
                      b'"repaired":0}'),
    "huge": (200, b'{"node":"' + b"x" * 70000 + b'"}'),
    "good-extra": (200, b'{"node":"stub\\u001b[31m","chunks":4,'
                        b'"bytes":122040320,"replicas":2,'
                        b'"published_chunks":5,"under_replicated":1,'
                        b'"repaired":7,"future":"kept"}'),
}

def handler(mode):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = ANSWERS[mode]
            if self.path != "/v1/store":
                status, body = 404, b'{"error":"not-found"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            pass
    return H

lines = []
for mode in ANSWERS:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(mode))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    lines.append("%s %d" % (mode, srv.server_address[1]))
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(16)
lines.append("silent %d" % silent.getsockname()[1])
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("\n".join(lines) + "\n")
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
threading.Event().wait()
EOF
    STUB_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -f $WORK/stub.ports ]] && return 0
        sleep 0.1
    done
    fail "the stub did not start in 10 s: $(cat "$WORK/stub.log")"
}

# stub_url MODE: the URL of the stub's port for MODE.
stub_url() {
    echo "http://127.0.0.1:$(awk -v m="$1" '$1 == m {print $2}' "$WORK/stub.ports")"
}

test_wrong_answers_exit_1_saying_what_was_wrong() {
    ensure_stub || return 1
    expect_failure "$(stub_url not-found)" \
        "unexpected answer from '$(stub_url not-found)': HTTP 404: not-found: no such route" ||
        return 1
    expect_failure "$(stub_url server-error)" "': HTTP 500" || return 1
    expect_failure "$(stub_url not-json)" "': answer is not JSON" || return 1
    expect_failure "$(stub_url array)" "': answer is not a JSON object" ||
        return 1
    expect_failure "$(stub_url no-node)" "': answer has no string 'node'" ||
        return 1
    expect_failure "$(stub_url missing-key)" \
        "answer has no non-negative integer 'repaired'" || return 1
    expect_failure "$(stub_url negative)" \
        "answer has no non-negative integer 'chunks'" || return 1
    expect_failure "$(stub_url string-number)" \
        "answer has no non-negative integer 'bytes'" || return 1
    expect_failure "$(stub_url fraction)" \
        "answer has no non-negative integer 'replicas'" || return 1
    expect_failure "$(stub_url huge)" "answer is larger than 65536 bytes" ||
        return 1
    # --json checks the answer as well before printing it.
    run store status --node "$(stub_url missing-key)" --json
    expect_rc 1 || return 1
    [[ -z $out ]] || fail "--json printed a bad answer: $out"
}

test_a_node_that_never_answers_times_out() {
    ensure_stub || return 1
    local url start ms
    url=$(stub_url silent)
    start=$(date +%s%N)
    run store status --node "$url" --timeout 0.5
    ms=$((($(date +%s%N) - start) / 1000000))
    expect_rc 1 || return 1
    [[ $err == "dsuit store status: cannot reach '$url': no answer within 0.5 s" ]] ||
        fail "stderr: $err" || return 1
    ((ms < 5000)) || fail "took $ms ms for a 0.5 s timeout"
}

test_a_good_answer_is_printed_with_control_characters_masked() {
    ensure_stub || return 1
    local url
    url=$(stub_url good-extra)
    run store status --node "$url"
    expect_rc 0 || return 1
    [[ -z $err ]] || fail "stderr: $err" || return 1
    [[ $out == "node: stub?[31m
chunks: 4 (116.4 MiB)
replicas: 2
published chunks: 5
under-replicated: 1
repaired: 7" ]] || fail "stdout: $out" || return 1
    # --json: the node's object as it came, members it does not know kept.
    run store status --node "$url" --json
    expect_rc 0 || return 1
    jq -e '.bytes == 122040320 and .future == "kept" and
           (keys | length) == 8' <<<"$out" >/dev/null ||
        fail "--json: $out"
}

# ---- a real devnet, in order -------------------------------------------------

D=$WORK/D
URLS=()       # the nodes' HTTP URLs
REPLICAS=     # the genesis policy's
CHUNK_SIZE=   # the genesis policy's
KEYS='["node","chunks","bytes","replicas","published_chunks","under_replicated","repaired"]'

test_store_1_devnet_comes_up() {
    local sj
    run devnet up --nodes 4 --dir "$D" --detach --heartbeat-ms 300
    expect_rc 0 || return 1
    run devnet status --dir "$D" --json
    expect_rc 0 || return 1
    sj=$out
    mapfile -t URLS < <(jq -r '.nodes[].http' <<<"$sj")
    [[ ${#URLS[@]} -eq 4 ]] || fail "nodes: $sj" || return 1
    run genesis show "$D/genesis.cbor" --json
    expect_rc 0 || return 1
    REPLICAS=$(jq -r .policy.replicas <<<"$out")
    CHUNK_SIZE=$(jq -r .policy.chunk_size <<<"$out")
    [[ $REPLICAS == 3 && $CHUNK_SIZE =~ ^[0-9]+$ ]] ||
        fail "policy: $(jq -c .policy <<<"$out")"
}

test_store_2_fresh_devnet_holds_nothing() {
    local i json
    [[ ${#URLS[@]} -eq 4 ]] || fail "no devnet" || return 1
    for i in 0 1 2 3; do
        run store status --node "${URLS[i]}" --json
        expect_rc 0 || return 1
        [[ -z $err ]] || fail "stderr: $err" || return 1
        json=$out
        jq -e --argjson keys "$KEYS" --arg name "node-$((i + 1))" \
            --argjson r "$REPLICAS" '
            (keys_unsorted | sort) == ($keys | sort) and
            .node == $name and
            ([.[] | select(type == "number")] | length) == 6 and
            .chunks == 0 and .bytes == 0 and .replicas == $r and
            .published_chunks == 0 and .under_replicated == 0 and
            .repaired == 0' <<<"$json" >/dev/null ||
            fail "node-$((i + 1)) --json: $json" || return 1

        run store status --node "${URLS[i]}/"
        expect_rc 0 || return 1
        [[ -z $err ]] || fail "stderr: $err" || return 1
        [[ $out == "node: node-$((i + 1))
chunks: 0 (0 bytes)
replicas: $REPLICAS
published chunks: 0
under-replicated: 0
repaired: 0" ]] || fail "node-$((i + 1)) text: $out" || return 1
    done
}

# One image of 1.5 chunks: 2 chunks, each on $REPLICAS of the 4 nodes.
IMAGE_SIZE=

test_store_3_published_chunks_are_held_replicas_times() {
    local i t json sum_chunks=0 sum_bytes=0 published
    [[ ${#URLS[@]} -eq 4 ]] || fail "no devnet" || return 1
    IMAGE_SIZE=$((CHUNK_SIZE + CHUNK_SIZE / 2))
    head -c "$IMAGE_SIZE" /dev/urandom >fw.bin
    "$DSUIT" keygen --alg es256 --out author >/dev/null || fail keygen ||
        return 1
    run author register --node "${URLS[0]}" --genesis "$D/genesis.cbor" \
        --registrar-key "$D/registrar-1.key" --author-pub author.pub \
        --name Acme --vendor-domain acme.example --class sensor --timeout 30
    expect_rc 0 || return 1
    run manifest create --vendor-domain acme.example --class sensor --seq 1 \
        --image fw.bin --key author.key --kid -o fw.suit
    expect_rc 0 || return 1
    run publish --node "${URLS[1]}" --manifest fw.suit --image fw.bin \
        --timeout 30
    expect_rc 0 || return 1

    # Every node learns of the published chunks on its next repair pass
    # (every 2 s): wait at most 15 s.
    for ((t = 0; t < 75; t++)); do
        published=0
        for i in 0 1 2 3; do
            json=$("$DSUIT" store status --node "${URLS[i]}" --json) || break
            [[ $(jq -r .published_chunks <<<"$json") == 2 ]] &&
                published=$((published + 1))
        done
        [[ $published -eq 4 ]] && break
        sleep 0.2
    done
    [[ $published -eq 4 ]] ||
        fail "published_chunks is not 2 on every node after 15 s" || return 1

    for i in 0 1 2 3; do
        run store status --node "${URLS[i]}" --json
        expect_rc 0 || return 1
        json=$out
        jq -e --argjson r "$REPLICAS" '
            .chunks <= 2 and .replicas == $r and .under_replicated == 0' \
            <<<"$json" >/dev/null || fail "node-$((i + 1)): $json" || return 1
        sum_chunks=$((sum_chunks + $(jq -r .chunks <<<"$json")))
        sum_bytes=$((sum_bytes + $(jq -r .bytes <<<"$json")))
        # The text says the same.
        run store status --node "${URLS[i]}"
        expect_rc 0 || return 1
        [[ $out == *"chunks: $(jq -r .chunks <<<"$json") ("*")"* &&
            $out == *"published chunks: 2"* ]] ||
            fail "node-$((i + 1)) text: $out" || return 1
    done
    [[ $sum_chunks -eq $((2 * REPLICAS)) ]] ||
        fail "the nodes hold $sum_chunks chunks, not $((2 * REPLICAS))" ||
        return 1
    [[ $sum_bytes -eq $((IMAGE_SIZE * REPLICAS)) ]] ||
        fail "the nodes hold $sum_bytes bytes, not $((IMAGE_SIZE * REPLICAS))"
}

test_store_4_a_stopped_node_exits_1() {
    [[ ${#URLS[@]} -eq 4 ]] || fail "no devnet" || return 1
    run devnet down --dir "$D"
    expect_rc 0 || return 1
    expect_failure "${URLS[0]}" "cannot reach '${URLS[0]}': cannot connect"
}

run_all_tests
finish
