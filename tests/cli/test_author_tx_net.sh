#!/usr/bin/env bash
# End-to-end tests of `dsuit author ... --node` and `dsuit tx submit`
# against a real 4-validator network on 127.0.0.1 (`dsuit genesis`,
# `dsuit node init`, `dsuit node run`), and against a lying node (a small
# Python stub that proxies a real node but claims certification of a block
# that does not hold the transaction, serves a broken certificate, or
# keeps a transaction pending), to check that the CLI believes only a
# certificate that verifies against the genesis.
#
# Every wait is bounded; the trap stops exactly the processes this script
# started (by pid) and removes the scratch folder.
set -u

. "$(dirname "$0")/lib.sh" || exit 1
require_dsuit
for tool in jq curl python3; do
    require_tool $tool
done

PIDS=()
cleanup() {
    local p i
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        # At most 10 s each, then SIGKILL.
        for ((i = 0; i < 100; i++)); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}
make_work cleanup


die() {
    echo "test_author_tx_net: $*" >&2
    for f in "$WORK"/log-*.txt; do
        [[ -f $f ]] && { echo "== $f" >&2; tail -20 "$f" >&2; }
    done
    exit 1
}

# ---- the network -----------------------------------------------------------

# 13 ports free on 127.0.0.1 now (raft, http, coap for 4 nodes; the stub).
read -r -a PORTS < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(13):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
)
[[ ${#PORTS[@]} -eq 13 ]] || die "cannot find free ports"

KEYS=$WORK/keys
mkdir -p "$KEYS"
for n in a b c d; do
    "$DSUIT" keygen --alg ed25519 --out "$KEYS/node-$n" >/dev/null ||
        die "keygen"
done
for k in reg-1 reg-2 author author-new author-2; do
    "$DSUIT" keygen --alg es256 --out "$KEYS/$k" >/dev/null || die "keygen"
done
VARGS=()
i=0
for n in a b c d; do
    VARGS+=(--validator "$n=$KEYS/node-$n.pub@127.0.0.1:${PORTS[i]}/${PORTS[i + 1]}/${PORTS[i + 2]}")
    i=$((i + 3))
done
HTTP=("${PORTS[1]}" "${PORTS[4]}" "${PORTS[7]}" "${PORTS[10]}")
STUB_PORT=${PORTS[12]}
GEN=$WORK/genesis.cbor
"$DSUIT" genesis --chain-id net-test "${VARGS[@]}" \
    --registrar "$KEYS/reg-1.pub" --registrar "$KEYS/reg-2.pub" \
    --registrar-threshold 2 --heartbeat-ms 1000 -o "$GEN" >/dev/null ||
    die "genesis"
for n in a b c d; do
    "$DSUIT" node init --genesis "$GEN" --name $n --key "$KEYS/node-$n.key" \
        --data "$WORK/data-$n" >/dev/null || die "node init $n"
done
# Node d takes at most 3 HTTP connections per client address.
for n in a b c d; do
    extra=()
    [[ $n == d ]] && extra=(--http-conns-per-ip 3)
    "$DSUIT" node run --data "$WORK/data-$n" --log "$WORK/log-$n.txt" \
        "${extra[@]}" &
    PIDS+=($!)
done

# Wait (at most 60 s) until every node knows a leader and has a certified
# block.
ready=0
for ((t = 0; t < 300; t++)); do
    ready=0
    for p in "${HTTP[@]}"; do
        s=$(curl -s --max-time 1 "http://127.0.0.1:$p/v1/status") || continue
        [[ $(jq -r '.leader != null and .certified_height >= 1' <<<"$s" 2>/dev/null) == true ]] &&
            ready=$((ready + 1))
    done
    [[ $ready -eq 4 ]] && break
    sleep 0.2
done
[[ $ready -eq 4 ]] || die "the network did not come up in 60 s"
NODE=http://127.0.0.1:${HTTP[1]}

author_status() {
    curl -s --max-time 5 "$NODE/v1/authors" |
        jq -r --arg k "$1" '.authors[] | select(.key_id == $k) | .status'
}

# ---- tests -----------------------------------------------------------------

test_register_with_node_is_certified_by_a_quorum() {
    run author register --node "$NODE" --genesis "$GEN" \
        --registrar-key "$KEYS/reg-1.key" --registrar-key "$KEYS/reg-2.key" \
        --author-pub "$KEYS/author.pub" --name "Acme" \
        --vendor-domain acme.example --class sensor --timeout 60
    expect_rc 0 || return 1
    printf '%s\n' "$out" | grep -qE '^id: [0-9a-f]{64}$' || fail "$out" ||
        return 1
    printf '%s\n' "$out" | grep -qx 'status: certified' || fail "$out" ||
        return 1
    printf '%s\n' "$out" | grep -qE '^certified by [34] of 4 validators$' ||
        fail "$out" || return 1
    [[ $(author_status "$(key_id "$KEYS/author.pub")") == active ]] ||
        fail "author not active on the node"
}

test_offline_flow_is_refused_below_threshold_then_certified_once_signed() {
    "$DSUIT" author register -o r.tx --genesis "$GEN" \
        --registrar-key "$KEYS/reg-1.key" --author-pub "$KEYS/author-2.pub" \
        --name "Second" --vendor-domain acme.example >/dev/null ||
        fail "register -o" || return 1
    run tx submit --node "$NODE" r.tx --timeout 60
    expect_rc 3 || return 1
    printf '%s\n' "$out" | grep -qx 'status: invalid' || fail "$out" ||
        return 1
    printf '%s\n' "$out" | grep -qx 'result: below-threshold' ||
        fail "$out" || return 1
    [[ $err == *"below-threshold: too few registrar signatures"* ]] ||
        fail "stderr: $err" || return 1
    "$DSUIT" tx sign --key "$KEYS/reg-2.key" r.tx -o r.tx >/dev/null ||
        fail "tx sign" || return 1
    # Same tx id: the node still holds the earlier refusal while the signed
    # one is pending; only a verdict at a later height may count.
    run tx submit --node "http://127.0.0.1:${HTTP[2]}/" r.tx \
        --wait certified --genesis "$GEN" --timeout 60
    expect_rc 0 || return 1
    printf '%s\n' "$out" | grep -qE '^certified by [34] of 4 validators$' ||
        fail "$out" || return 1
    [[ $(author_status "$(key_id "$KEYS/author-2.pub")") == active ]] ||
        fail "author-2 not active"
}

test_submitting_an_applied_transaction_again_reports_it_certified() {
    "$DSUIT" author register -o r.tx --genesis "$GEN" \
        --registrar-key "$KEYS/reg-1.key" --registrar-key "$KEYS/reg-2.key" \
        --author-pub "$KEYS/author-new.pub" --name "Third" \
        --vendor-domain other.example >/dev/null || return 1
    run tx submit --node "$NODE" r.tx --wait certified --genesis "$GEN" \
        --timeout 60
    expect_rc 0 || return 1
    run tx submit --node "http://127.0.0.1:${HTTP[3]}" r.tx --wait certified \
        --genesis "$GEN" --timeout 60
    expect_rc 0 || return 1
    printf '%s\n' "$out" | grep -qx 'status: certified' || fail "$out"
}

test_rotate_then_revoke_with_node() {
    local old new
    "$DSUIT" keygen --alg ed25519 --out rot >/dev/null || return 1
    "$DSUIT" keygen --alg es256 --out a >/dev/null || return 1
    old=$(key_id a.pub)
    new=$(key_id rot.pub)
    run author register --node "$NODE" --genesis "$GEN" \
        --registrar-key "$KEYS/reg-2.key" --registrar-key "$KEYS/reg-1.key" \
        --author-pub a.pub --name "Rotator" --vendor-domain r.example \
        --timeout 60
    expect_rc 0 || return 1
    run author rotate --node "$NODE" --genesis "$GEN" --key a.key \
        --new-pub rot.pub --timeout 60
    expect_rc 0 || return 1
    [[ $(author_status "$new") == active ]] || fail "new key not active" ||
        return 1
    [[ $(author_status "$old") == rotated ]] || fail "old key not rotated" ||
        return 1
    run author revoke --node "$NODE" --genesis "$GEN" \
        --registrar-key "$KEYS/reg-1.key" --registrar-key "$KEYS/reg-2.key" \
        --key-id "$new" --reason "retired" --timeout 60
    expect_rc 0 || return 1
    [[ $(author_status "$new") == revoked ]] || fail "not revoked"
}

test_revoking_an_unknown_author_exits_3_with_the_result() {
    run author revoke --node "$NODE" --genesis "$GEN" \
        --registrar-key "$KEYS/reg-1.key" --registrar-key "$KEYS/reg-2.key" \
        --key-id "$(printf 'ab%.0s' $(seq 32))" --reason "" --timeout 60
    expect_rc 3 || return 1
    [[ $err == *"unknown-author"* ]] || fail "stderr: $err"
}

test_a_transaction_for_another_chain_is_refused_by_the_node() {
    local other=$WORK/other.cbor
    "$DSUIT" genesis --chain-id other \
        --validator "x=$KEYS/node-a.pub@127.0.0.1:1/2/3" \
        --registrar "$KEYS/reg-1.pub" --replicas 1 -o "$other" >/dev/null ||
        return 1
    "$DSUIT" author register -o o.tx --genesis "$other" \
        --registrar-key "$KEYS/reg-1.key" --author-pub "$KEYS/author.pub" \
        --name o --vendor-domain o.example >/dev/null || return 1
    run tx submit --node "$NODE" o.tx --timeout 30
    expect_rc 3 || return 1
    [[ $err == *"wrong-chain"* ]] || fail "stderr: $err"
}

# ---- a lying node ------------------------------------------------------------

# stub MODE: proxy $NODE, but answer POST /v1/tx with 202 and GET /v1/tx
# as MODE says: "other-block" (certified at height 1, whose block does
# not hold the tx), "bad-cert" (same, with the certificate's block hash
# altered), or "pending" (forever).
cat >"$WORK/stub.py" <<'EOF'
import hashlib, http.server, json, sys, urllib.request
mode, port, upstream = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def tx_id(tx):
    # Tx = [bstr body, sigs]: 0x82, then a bstr head.
    b = tx[1]
    ai = b & 0x1f
    if ai < 24: n, off = ai, 2
    elif ai == 24: n, off = tx[2], 3
    else: n, off = int.from_bytes(tx[2:4], "big"), 4
    return hashlib.sha256(tx[off:off + n]).hexdigest()

class H(http.server.BaseHTTPRequestHandler):
    def reply(self, code, body, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        out = json.dumps({"id": tx_id(body), "status": "pending"}).encode()
        self.reply(202, out, "application/json")
    def do_GET(self):
        if self.path.startswith("/v1/tx/"):
            st = {"status": "pending"} if mode == "pending" else \
                 {"status": "certified", "height": 1, "index": 0}
            self.reply(200, json.dumps(st).encode(), "application/json")
            return
        req = urllib.request.Request(upstream + self.path,
                                     headers={"Accept": "application/cbor"})
        data = urllib.request.urlopen(req, timeout=5).read()
        if mode == "bad-cert" and self.path.endswith("/cert"):
            # Flip a bit of the certified block hash (key 2, bstr(32)):
            # then no vote verifies.
            data = bytearray(data)
            i = data.find(b"\x02\x58\x20")
            data[i + 3] ^= 1
            data = bytes(data)
        self.reply(200, data, "application/cbor")
    def log_message(self, *a):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF

STUB_PID=
start_stub() {
    local t
    python3 "$WORK/stub.py" "$1" "$STUB_PORT" "$NODE" &
    STUB_PID=$!
    PIDS+=("$STUB_PID")
    for ((t = 0; t < 50; t++)); do
        curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$STUB_PORT/v1/tx/00" &&
            return 0
        sleep 0.1
    done
    fail "stub did not start"
}

stop_stub() {
    kill -TERM "$STUB_PID" 2>/dev/null
    wait "$STUB_PID" 2>/dev/null
}

signed_tx() {
    "$DSUIT" author register -o "$1" --genesis "$GEN" \
        --registrar-key "$KEYS/reg-1.key" --registrar-key "$KEYS/reg-2.key" \
        --author-pub "$KEYS/author.pub" --name liar \
        --vendor-domain liar.example >/dev/null
}

test_a_certified_block_without_the_transaction_is_not_believed() {
    signed_tx l.tx || return 1
    start_stub other-block || return 1
    run tx submit --node "http://127.0.0.1:$STUB_PORT" l.tx --wait certified \
        --genesis "$GEN" --timeout 30
    stop_stub
    expect_rc 3 || return 1
    [[ $err == *"does not hold the transaction"* ]] || fail "stderr: $err" ||
        return 1
    [[ $out != *"certified by"* ]] || fail "stdout: $out"
}

test_a_corrupted_certificate_is_not_believed() {
    signed_tx l.tx || return 1
    start_stub bad-cert || return 1
    run tx submit --node "http://127.0.0.1:$STUB_PORT" l.tx --wait certified \
        --genesis "$GEN" --timeout 30
    stop_stub
    expect_rc 3 || return 1
    [[ $err == *"cannot verify certificate"* ]] || fail "stderr: $err"
}

test_a_transaction_that_stays_pending_times_out_with_exit_1() {
    local t0 t1
    signed_tx l.tx || return 1
    start_stub pending || return 1
    t0=$(date +%s)
    run tx submit --node "http://127.0.0.1:$STUB_PORT" l.tx --timeout 2
    t1=$(date +%s)
    stop_stub
    expect_rc 1 || return 1
    [[ $err == *"timed out waiting for"*"still pending"* ]] ||
        fail "stderr: $err" || return 1
    ((t1 - t0 <= 6)) || fail "took $((t1 - t0)) s for a 2 s timeout"
}

test_node_run_http_conns_per_ip_limits_one_address() {
    local fds=() fd i url=http://127.0.0.1:${HTTP[3]}/v1/status
    curl -sf --max-time 5 "$url" >/dev/null || fail "node d does not answer" ||
        return 1
    # Three idle connections from 127.0.0.1 take node d's allowance...
    for i in 1 2 3; do
        exec {fd}<>"/dev/tcp/127.0.0.1/${HTTP[3]}" || fail "connect $i" ||
            return 1
        fds+=("$fd")
    done
    sleep 0.2
    # ... so a fourth is closed at once; node c has the default (32).
    if curl -sf --max-time 5 "$url" >/dev/null; then
        fail "node d answered a 4th connection from one address"
        return 1
    fi
    curl -sf --max-time 5 "http://127.0.0.1:${HTTP[2]}/v1/status" >/dev/null ||
        fail "node c did not answer" || return 1
    for fd in "${fds[@]}"; do
        exec {fd}>&-
    done
    # Freed: answered again (within 5 s).
    for ((i = 0; i < 25; i++)); do
        curl -sf --max-time 1 "$url" >/dev/null && return 0
        sleep 0.2
    done
    fail "node d does not answer after the connections were closed"
}

test_node_run_refuses_a_bad_http_conns_per_ip() {
    local v
    for v in 0 257 -1 x ""; do
        run node run --data "$WORK/data-a" --http-conns-per-ip "$v"
        expect_rc 2 || return 1
        [[ $err == *"'--http-conns-per-ip' needs a number from 1 to 256"* ]] ||
            fail "message for '$v': $err" || return 1
    done
}

run_all_tests
finish
