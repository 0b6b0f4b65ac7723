#!/usr/bin/env bash
# End-to-end tests of the reference device, `dsuit device once` and `dsuit
# device run` (src/cli/device_client.c, docs/cli/dsuit-device.md), without
# a dsuit node: Debian's coap-server-gnutls (libcoap3-bin) stands in for
# the node's device service. Manifests made with `dsuit manifest create`
# and images are PUT as dynamic resources under the paths the device asks
# for (/fw/<vendor>/<class>/latest, /fw/img/<sha-256 hex>), over plain CoAP;
# the device reads them over DTLS (PSK on one server, an RFC 7250 raw
# public key on the other), block-wise. coap-server answers any POST with
# 2.04, which stands in for /fw/report.
#
# Covers: command-line and key-file errors (exit 2, 3, 1), an unreachable
# node and a wrong PSK (exit 1 within the timeout), a block-wise update, a
# second run that is current, falling back to the next node, rollback,
# an untrusted author and another class (exit 3, nothing installed), a
# download killed with SIGKILL and resumed, a tampered image (exit 3, the
# download thrown away), the raw-public-key transport, and `run --observe`
# updating on a notification and stopping on SIGTERM with exit 0.
#
# UDP ports come from 25000-25999 by the shell's pid. Every wait is
# bounded; the EXIT trap stops the servers and any device this test
# started, by pid.
set -u

. "$(dirname "$0")/lib.sh" || exit 1
require_dsuit
for tool in coap-server-gnutls coap-client-gnutls openssl sha256sum xxd \
    timeout cmp; do
    require_tool "$tool" "(apt-get install libcoap3-bin openssl xxd)"
done

SRV_A_PID=
SRV_B_PID=
DEV_PID=

cleanup() {
    local pid
    for pid in $DEV_PID $SRV_A_PID $SRV_B_PID; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
make_work cleanup
trap 'exit 1' INT TERM
RUN_TIMEOUT=60

# Two servers, each on PORT (CoAP, for PUT) and PORT+1 (DTLS); a port
# where nothing listens lies outside the range the servers use.
BASE=$((25000 + ($$ % 240) * 4))
PORT_A=$BASE
PORT_B=$((BASE + 2))
DEAD_PORT=$((25960 + ($$ % 40)))
NODE_A=coaps://127.0.0.1:$((PORT_A + 1))
NODE_B=coaps://127.0.0.1:$((PORT_B + 1))
NODE_DEAD=coaps://127.0.0.1:$DEAD_PORT
PSK=dsuit-device-client-test-key
PSK_HEX=$(printf '%s' "$PSK" | xxd -p | tr -d '\n')

# ---- fixtures ---------------------------------------------------------------

# The ids `dsuit manifest create --vendor-domain example.com --class dev`
# derives, read back from a manifest so the test does not restate UUIDv5.
setup_fixtures() {
    "$DSUIT" keygen --alg es256 --out "$WORK/author" >/dev/null &&
        "$DSUIT" keygen --alg es256 --out "$WORK/other" >/dev/null &&
        "$DSUIT" keygen --alg es256 --out "$WORK/dev" >/dev/null &&
        "$DSUIT" keygen --alg ed25519 --out "$WORK/ed" >/dev/null ||
        return 1
    head -c 300000 /dev/urandom >"$WORK/img1.bin"
    head -c 300000 /dev/urandom >"$WORK/img2.bin"
    head -c 5000 /dev/urandom >"$WORK/img3.bin"
    head -c 5000 /dev/urandom >"$WORK/bad3.bin"
    head -c 3000 /dev/urandom >"$WORK/img4.bin"
    head -c 2000 /dev/urandom >"$WORK/img1b.bin"
    make_manifest 1 img1 m1 &&
        make_manifest 1 img1b m1b &&
        make_manifest 2 img2 m2 &&
        make_manifest 3 img3 m3 &&
        make_manifest 4 img4 m4 || return 1
    "$DSUIT" manifest create --vendor-domain example.com --class other \
        --seq 9 --image "$WORK/img4.bin" --uri coaps://x/i \
        --key "$WORK/author.key" -o "$WORK/m-other.suit" >/dev/null || return 1
    local show
    show=$("$DSUIT" manifest show "$WORK/m1.suit") || return 1
    VENDOR=$(awk '/vendor-id:/ {print $2; exit}' <<<"$show")
    CLASS=$(awk '/class-id:/ {print $2; exit}' <<<"$show")
    [[ $VENDOR =~ ^[0-9a-f-]{36}$ && $CLASS =~ ^[0-9a-f-]{36}$ ]] || {
        echo "cannot read the vendor and class ids: $show" >&2
        return 1
    }
    LATEST=/fw/$VENDOR/$CLASS/latest
    # The server's raw public key: coap-server needs SEC1 to derive the
    # public half from the private key.
    openssl ec -in "$WORK/other.key" -out "$WORK/srv-sec1.pem" 2>/dev/null
}

# make_manifest SEQ IMAGE NAME: NAME.suit for IMAGE.bin, signed by author.
make_manifest() {
    "$DSUIT" manifest create --vendor-domain example.com --class dev \
        --seq "$1" --image "$WORK/$2.bin" --uri coaps://ignored.example/img \
        --key "$WORK/author.key" -o "$WORK/$3.suit" >/dev/null
}

# start_server PORT ARGS...: coap-server-gnutls on 127.0.0.1:PORT (and the
# DTLS port PORT+1), pid in $started; waits until it answers (10 s).
start_server() {
    local port=$1 i
    shift
    coap-server-gnutls -A 127.0.0.1 -p "$port" -d 30 "$@" \
        >"$WORK/server-$port.log" 2>&1 &
    started=$!
    for ((i = 0; i < 50; i++)); do
        if timeout 2 coap-client-gnutls -m get -B 1 \
            "coap://127.0.0.1:$port/.well-known/core" >/dev/null 2>&1; then
            return 0
        fi
        pid_running "$started" || break
        sleep 0.2
    done
    echo "coap-server-gnutls on port $port did not come up:" >&2
    cat "$WORK/server-$port.log" >&2
    return 1
}

# put PORT FILE PATH CONTENT-FORMAT: PUT FILE as a dynamic resource.
put() {
    timeout 30 coap-client-gnutls -m put -b 1024 -t "$4" -f "$2" \
        "coap://127.0.0.1:$1$3" >/dev/null 2>&1 ||
        fail "cannot PUT $2 to $3 on port $1"
}

# serve PORT MANIFEST [IMAGE [STAND-IN]]: PUT MANIFEST.suit as latest and
# IMAGE.bin under its digest (or STAND-IN.bin's bytes under IMAGE's digest).
# The image goes first, as on a node: a device notified of the manifest
# must find its image.
serve() {
    local port=$1 manifest=$2 image=${3:-} bytes=${4:-${3:-}}
    if [[ -n $image ]]; then
        put "$port" "$WORK/$bytes.bin" "/fw/img/$(digest "$WORK/$image.bin")" \
            42 || return 1
    fi
    put "$port" "$WORK/$manifest.suit" "$LATEST" 60
}

digest() {
    sha256sum "$1" | cut -c1-64
}

# The options every device run here shares (but --node and --state).
psk_opts=()
set_psk_opts() {
    psk_opts=(--psk-id device-1 --psk-key "$PSK_HEX"
        --trust-author "$WORK/author.pub" --vendor-domain example.com
        --class dev --timeout 2)
}

# state_field DIR KEY: the value of KEY in DIR/state.
state_field() {
    awk -v k="$2" '$1 == k {print $2}' "$1/state" 2>/dev/null
}

# ---- tests ------------------------------------------------------------------

test_01_usage_errors_exit_2() {
    local s=(--state st) n=(--node "$NODE_A")
    expect_usage_message "device once" "missing option '--state'" \
        device once || return 1
    expect_usage_message "device once" "missing option '--node'" \
        device once "${s[@]}" || return 1
    expect_usage_message "device once" "bad '--node' 'http://127.0.0.1:1'" \
        device once "${s[@]}" --node http://127.0.0.1:1 || return 1
    expect_usage_message "device once" "bad '--node'" \
        device once "${s[@]}" --node coaps://127.0.0.1 || return 1
    expect_usage_message "device once" "missing option '--psk-id' and" \
        device once "${s[@]}" "${n[@]}" || return 1
    expect_usage_message "device once" "missing option '--psk-key'" \
        device once "${s[@]}" "${n[@]}" --psk-id x || return 1
    expect_usage_message "device once" "bad '--psk-key'" \
        device once "${s[@]}" "${n[@]}" --psk-id x --psk-key zz || return 1
    expect_usage_message "device once" "bad '--psk-key'" \
        device once "${s[@]}" "${n[@]}" --psk-id x --psk-key 00112233 ||
        return 1
    expect_usage_message "device once" "exclude each other" \
        device once "${s[@]}" "${n[@]}" --psk-id x --psk-key "$PSK_HEX" \
        --key "$WORK/dev.key" || return 1
    expect_usage_message "device once" "missing option '--trust-author'" \
        device once "${s[@]}" "${n[@]}" --psk-id x --psk-key "$PSK_HEX" ||
        return 1
    expect_usage_message "device once" "missing option '--vendor-domain'" \
        device once "${s[@]}" "${n[@]}" --psk-id x --psk-key "$PSK_HEX" \
        --trust-author "$WORK/author.pub" --class dev || return 1
    expect_usage_message "device once" "missing option '--class'" \
        device once "${s[@]}" "${n[@]}" --psk-id x --psk-key "$PSK_HEX" \
        --trust-author "$WORK/author.pub" --vendor-domain d || return 1
    expect_usage_message "device once" "unknown option '--interval'" \
        device once --interval 5 || return 1
    expect_usage_message "device once" "unknown option '--observe'" \
        device once --observe || return 1
    expect_usage_message "device run" "bad '--interval' '0'" \
        device run --interval 0 || return 1
    expect_usage_message "device run" "bad '--timeout' 'x'" \
        device run --timeout x || return 1
    expect_usage_message "device once" "'--max-age' needs '--trust-genesis'" \
        device once "${s[@]}" "${n[@]}" --psk-id x --psk-key "$PSK_HEX" \
        --trust-author "$WORK/author.pub" --vendor-domain d --class c \
        --max-age 60 || return 1
    expect_usage_message "device once" "unexpected argument 'extra'" \
        device once "${s[@]}" extra || return 1
    expect_help "device once --help" "device run --help" "device run -h" ||
        return 1
    [[ ! -e st ]] || fail "a usage error made the state folder"
}

test_02_bad_key_files_exit_3_or_1() {
    local base=(device once --state st --node "$NODE_A"
        --vendor-domain example.com --class dev --timeout 1)
    head -c 100 /dev/urandom >junk.bin
    run "${base[@]}" --key "$WORK/ed.key" --trust-author "$WORK/author.pub"
    expect_rc 3 || return 1
    [[ $err == *"cannot use key"*"Ed25519"*"P-256"* ]] ||
        fail "Ed25519 --key: $err" || return 1
    run "${base[@]}" --key "$WORK/dev.pub" --trust-author "$WORK/author.pub"
    expect_rc 3 || return 1
    run "${base[@]}" --key "$WORK/nope.key" --trust-author "$WORK/author.pub"
    expect_rc 1 || return 1
    [[ $err == *"cannot read"*"nope.key"* ]] || fail "missing key: $err" ||
        return 1
    run "${base[@]}" --psk-id x --psk-key "$PSK_HEX" --trust-author junk.bin
    expect_rc 3 || return 1
    run "${base[@]}" --psk-id x --psk-key "$PSK_HEX" --trust-author none.pub
    expect_rc 1 || return 1
    run "${base[@]}" --psk-id x --psk-key "$PSK_HEX" \
        --trust-author "$WORK/author.pub" --trust-genesis junk.bin
    expect_rc 3 || return 1
    [[ $err == *"cannot use genesis"* ]] || fail "genesis: $err"
}

test_03_unreachable_nodes_exit_1_within_the_timeout() {
    local t0 t1
    t0=$(date +%s)
    run device once --state st --node "$NODE_DEAD" "${psk_opts[@]}"
    expect_rc 1 || return 1
    [[ $err == *"'$NODE_DEAD'"* ]] || fail "node not named: $err" || return 1
    # A wrong key: the handshake fails silently, so the timeout ends it.
    run device once --state st --node "$NODE_A" --psk-id d \
        --psk-key 00112233445566778899aabbccddeeff \
        --trust-author "$WORK/author.pub" --vendor-domain example.com \
        --class dev --timeout 1
    expect_rc 1 || return 1
    [[ $err == *"no answer from '$NODE_A'"* ]] || fail "wrong PSK: $err" ||
        return 1
    t1=$(date +%s)
    ((t1 - t0 <= 10)) || fail "took $((t1 - t0)) s" || return 1
    [[ $(state_field st seq) == "" || $(state_field st seq) == 0 ]] ||
        fail "state changed"
}

test_04_updates_block_wise_over_psk_then_is_current() {
    serve "$PORT_A" m1 img1 || return 1
    run device once --state st --node "$NODE_A" "${psk_opts[@]}"
    expect_rc 0 || return 1
    [[ $out == "updated: sequence 1, image $(digest "$WORK/img1.bin"), from $NODE_A" ]] ||
        fail "stdout: $out" || return 1
    [[ $(state_field st seq) == 1 && $(state_field st active) == b ]] ||
        fail "state: $(cat st/state)" || return 1
    [[ $(state_field st manifest) == $("$DSUIT" manifest show \
        "$WORK/m1.suit" | awk '/manifest digest/ {print $4}') ]] ||
        fail "manifest digest in state: $(cat st/state)" || return 1
    cmp -s st/slot-b.bin "$WORK/img1.bin" || fail "slot-b is not the image" ||
        return 1
    [[ $(stat -c %a st) == 700 ]] || fail "state folder mode" || return 1
    run device once --state st --node "$NODE_A" "${psk_opts[@]}"
    expect_rc 0 || return 1
    [[ $out == "current: sequence 1" ]] || fail "second run: $out"
}

test_05_falls_back_to_the_next_node() {
    serve "$PORT_A" m1 img1 || return 1
    run device once --state st --node "$NODE_DEAD" --node "$NODE_A" \
        "${psk_opts[@]}"
    expect_rc 0 || return 1
    [[ $out == "updated: sequence 1, "*", from $NODE_A" ]] ||
        fail "stdout: $out" || return 1
    [[ $(line_count "$err") -eq 1 && $err == *"'$NODE_DEAD'"* ]] ||
        fail "stderr: $err"
}

test_06_rollback_untrusted_author_and_other_class_exit_3() {
    serve "$PORT_A" m2 img2 || return 1
    run device once --state st --node "$NODE_A" "${psk_opts[@]}"
    expect_rc 0 || return 1
    cp st/state state.before
    # Another manifest with a lower sequence number, then the same number.
    serve "$PORT_A" m1 img1 || return 1
    run device once --state st --node "$NODE_A" "${psk_opts[@]}"
    expect_rc 3 || return 1
    [[ $err == *"sequence 1, not above the installed 2: rollback"* ]] ||
        fail "rollback: $err" || return 1
    # Signed by a key the device does not trust.
    serve "$PORT_A" m2 || return 1
    run device once --state st --node "$NODE_A" --psk-id device-1 \
        --psk-key "$PSK_HEX" --trust-author "$WORK/other.pub" \
        --vendor-domain example.com --class dev --timeout 2
    expect_rc 3 || return 1
    [[ $err == *"does not authenticate"* ]] || fail "author: $err" || return 1
    # Served under this device's path, but made for another class.
    serve "$PORT_A" m-other || return 1
    run device once --state st --node "$NODE_A" "${psk_opts[@]}"
    expect_rc 3 || return 1
    [[ $err == *"refuses"* ]] || fail "class: $err" || return 1
    cmp -s state.before st/state || fail "state changed: $(cat st/state)"
}

test_07_same_sequence_other_manifest_is_rejected() {
    serve "$PORT_A" m1 img1 || return 1
    run device once --state st --node "$NODE_A" "${psk_opts[@]}"
    expect_rc 0 || return 1
    serve "$PORT_A" m1b img1b || return 1
    run device once --state st --node "$NODE_A" "${psk_opts[@]}"
    expect_rc 3 || return 1
    [[ $err == *rollback* ]] || fail "stderr: $err"
}

test_08_resumes_a_download_killed_with_sigkill() {
    local i stored
    serve "$PORT_A" m2 img2 || return 1
    DSUIT_DEVICE_THROTTLE_MS=20 "$DSUIT" device once --state st \
        --node "$NODE_A" "${psk_opts[@]}" >first.out 2>&1 &
    DEV_PID=$!
    # Wait (at most 20 s) until progress was recorded, then kill -9.
    for ((i = 0; i < 100; i++)); do
        stored=$(state_field st stored)
        [[ -n $stored && $stored != 0 ]] && break
        sleep 0.2
    done
    kill -KILL "$DEV_PID" 2>/dev/null
    wait "$DEV_PID" 2>/dev/null
    DEV_PID=
    [[ -n $stored && $stored != 0 ]] ||
        fail "no progress recorded: $(cat first.out)" || return 1
    [[ $(state_field st seq) == 0 ]] || fail "installed while killed" ||
        return 1
    run device once --state st --node "$NODE_A" "${psk_opts[@]}"
    expect_rc 0 || return 1
    [[ $(head -n1 <<<"$out") =~ ^resuming:\ ([0-9]+)\ of\ 300000\ from\ $NODE_A$ ]] ||
        fail "stdout: $out" || return 1
    ((BASH_REMATCH[1] > 0 && BASH_REMATCH[1] % 1024 == 0)) ||
        fail "resumed at ${BASH_REMATCH[1]}" || return 1
    [[ $(tail -n1 <<<"$out") == "updated: sequence 2, "* ]] ||
        fail "stdout: $out" || return 1
    cmp -s st/slot-b.bin "$WORK/img2.bin" || fail "resumed image differs"
}

test_09_tampered_image_is_rejected_and_discarded() {
    serve "$PORT_A" m1 img1 || return 1
    run device once --state st --node "$NODE_A" "${psk_opts[@]}"
    expect_rc 0 || return 1
    cp st/slot-b.bin active.before
    serve "$PORT_A" m3 img3 bad3 || return 1
    run device once --state st --node "$NODE_A" "${psk_opts[@]}"
    expect_rc 3 || return 1
    [[ $err == *"does not match the manifest's digest"* ]] ||
        fail "stderr: $err" || return 1
    [[ $(state_field st seq) == 1 && $(state_field st image) == - &&
        $(state_field st stored) == 0 ]] ||
        fail "state: $(cat st/state)" || return 1
    [[ ! -s st/slot-a.bin ]] || fail "the bad download was kept" || return 1
    cmp -s st/slot-b.bin active.before || fail "active slot changed"
}

test_10_updates_over_a_raw_public_key() {
    serve "$PORT_B" m1 img1 || return 1
    run device once --state st --node "$NODE_B" --key "$WORK/dev.key" \
        --trust-author "$WORK/author.pub" --vendor-domain example.com \
        --class dev --timeout 2
    expect_rc 0 || return 1
    [[ $out == "updated: sequence 1, "*", from $NODE_B" ]] ||
        fail "stdout: $out"
}

test_11_run_observe_updates_on_a_notification_and_stops_on_sigterm() {
    local i rc_dev
    serve "$PORT_A" m2 img2 || return 1
    "$DSUIT" device run --observe --state st --node "$NODE_A" \
        "${psk_opts[@]}" >run.out 2>run.err &
    DEV_PID=$!
    for ((i = 0; i < 100; i++)); do
        grep -q '^observing: ' run.out && break
        sleep 0.2
    done
    grep -q "^updated: sequence 2, " run.out ||
        fail "first cycle: $(cat run.out run.err)" || return 1
    grep -q "^observing: $NODE_A\$" run.out ||
        fail "no observation: $(cat run.out run.err)" || return 1
    serve "$PORT_A" m4 img4 || return 1
    for ((i = 0; i < 75; i++)); do
        grep -q '^updated: sequence 4, ' run.out && break
        sleep 0.2
    done
    grep -q '^updated: sequence 4, ' run.out ||
        fail "no update on notification: $(cat run.out run.err)" || return 1
    kill -TERM "$DEV_PID"
    for ((i = 0; i < 50; i++)); do
        pid_running "$DEV_PID" || break
        sleep 0.1
    done
    if pid_running "$DEV_PID"; then
        fail "still running 5 s after SIGTERM"
        return 1
    fi
    wait "$DEV_PID"
    rc_dev=$?
    DEV_PID=
    [[ $rc_dev -eq 0 ]] || fail "exit $rc_dev after SIGTERM"
}

setup_fixtures || exit 1
start_server "$PORT_A" -k "$PSK" || exit 1
SRV_A_PID=$started
start_server "$PORT_B" -M "$WORK/srv-sec1.pem" || exit 1
SRV_B_PID=$started
set_psk_opts
run_all_tests
finish
