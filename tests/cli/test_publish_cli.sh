#!/usr/bin/env bash
# End-to-end tests of `dsuit publish --key` (docs/cli/dsuit-publish.md), the
# form that builds and signs the manifest itself with `dsuit manifest
# create`'s options: bad command lines exit 2 with the hint; the envelope it
# keeps with --out is byte for byte what `manifest create --kid` makes from
# the same options (ES256 and EdDSA signatures are deterministic), checked
# first against a port nobody listens on; then on a real 4-node devnet on
# 127.0.0.1: an author publishes with --key and the publish is certified,
# another node serves exactly those bytes as the latest manifest of the
# vendor and class, and a second publish with the same --seq is refused as a
# rollback (exit 3).
#
# The devnet tests run in order and build on each other. Every wait is
# bounded; the EXIT trap stops the devnet with `dsuit devnet down` (then
# SIGKILLs any pid of its devnet.pids that is still that devnet's node):
# nothing else is touched. Exit codes are those of docs/EXIT-CODES.md.
set -u

. "$(dirname "$0")/lib.sh" || exit 1
require_dsuit
for tool in curl jq python3 timeout cmp; do
    require_tool "$tool"
done

# A pid runs (a zombie, which only waits for its parent to reap it, does
cleanup() {
    devnet_stop "$WORK/D"
    rm -rf "$WORK"
}
make_work cleanup
trap 'exit 1' INT TERM
RUN_TIMEOUT=60 # run: at most 60 s

# Shared inputs, made once: an image, a P-256 and an Ed25519 author key.
head -c 3000 /dev/urandom >"$WORK/fw.bin"
"$DSUIT" keygen --alg es256 --out "$WORK/author" >/dev/null || exit 1
"$DSUIT" keygen --alg ed25519 --out "$WORK/ed" >/dev/null || exit 1
FW=$WORK/fw.bin
KEY=$WORK/author.key

# A port nobody listens on: bound to find it, then closed.
free_port() {
    python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

NOBODY=http://127.0.0.1:$(free_port)

# ---- command line ------------------------------------------------------------

test_bad_command_lines_exit_2_with_the_hint() {
    local n=$NOBODY id=(--vendor-domain acme.example --class sensor)
    expect_usage_message publish "give '--manifest' or '--key', not both" \
        publish --node "$n" --manifest m.suit --key "$KEY" --image "$FW" \
        --seq 1 "${id[@]}" || return 1
    expect_usage_message publish "give '--manifest' or '--key', not both" \
        publish --node "$n" --key "$KEY" --manifest m.suit --image "$FW" ||
        return 1
    expect_usage_message publish "are required" \
        publish --node "$n" --image "$FW" --seq 1 "${id[@]}" || return 1
    expect_usage_message publish "are required" \
        publish --key "$KEY" --image "$FW" --seq 1 "${id[@]}" || return 1
    expect_usage_message publish "are required" \
        publish --node "$n" --key "$KEY" --seq 1 "${id[@]}" || return 1
    # --key without what the manifest needs: create's own messages.
    expect_usage_message publish "missing option '--seq'" \
        publish --node "$n" --key "$KEY" --image "$FW" "${id[@]}" || return 1
    expect_usage_message publish "missing option '--vendor-domain' or '--vendor-id'" \
        publish --node "$n" --key "$KEY" --image "$FW" --seq 1 \
        --class sensor || return 1
    expect_usage_message publish "missing option '--class' or '--class-id'" \
        publish --node "$n" --key "$KEY" --image "$FW" --seq 1 \
        --vendor-domain acme.example || return 1
    expect_usage_message publish "invalid sequence number 'x'" \
        publish --node "$n" --key "$KEY" --image "$FW" --seq x "${id[@]}" ||
        return 1
    expect_usage_message publish "give '--vendor-domain' or '--vendor-id', not both" \
        publish --node "$n" --key "$KEY" --image "$FW" --seq 1 "${id[@]}" \
        --vendor-id fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe || return 1
    expect_usage_message publish "unknown algorithm 'rsa'" \
        publish --node "$n" --key "$KEY" --image "$FW" --seq 1 "${id[@]}" \
        --alg rsa || return 1
    expect_usage_message publish "'--sever install' needs '--uri'" \
        publish --node "$n" --key "$KEY" --image "$FW" --seq 1 "${id[@]}" \
        --sever install || return 1
    expect_usage_message publish "too many '--key' options (at most 4)" \
        publish --node "$n" --key "$KEY" --key "$KEY" --key "$KEY" \
        --key "$KEY" --key "$KEY" --image "$FW" --seq 1 "${id[@]}" || return 1
    # Manifest options need --key.
    local opt
    for opt in "--seq 1" "--vendor-domain acme.example" "--out x.suit" \
        "--kid" "--no-kid" "--invoke" "--uri http://x/fw"; do
        # shellcheck disable=SC2086 # split on purpose
        expect_usage_message publish "'${opt%% *}' goes with '--key'" \
            publish --node "$n" --manifest m.suit --image "$FW" $opt ||
            return 1
    done
    expect_usage_message publish "with '--key', give one '--image'" \
        publish --node "$n" --key "$KEY" --image "$FW" --image "$FW" \
        --seq 1 "${id[@]}" || return 1
    expect_usage_message publish "empty name for '--out'" \
        publish --node "$n" --key "$KEY" --image "$FW" --seq 1 "${id[@]}" \
        --out '' || return 1
    # --from describes several images: not for publish.
    expect_usage_message publish "unknown option '--from'" \
        publish --node "$n" --key "$KEY" --image "$FW" --from d.json ||
        return 1
    expect_usage_message publish "'--node' takes an http:// URL" \
        publish --node 127.0.0.1:9 --key "$KEY" --image "$FW" --seq 1 \
        "${id[@]}" || return 1
    # Nothing was written by any of them.
    [[ ! -e x.suit ]] || fail "x.suit was written"
}

test_help_lists_the_manifest_options() {
    expect_help "publish --help" "publish -h" || return 1
    run publish --help
    local opt
    for opt in --key --seq --vendor-domain --class --kid --no-kid --out \
        --alg --sever --uri; do
        [[ $out == *"  $opt "* ]] || fail "--help lacks $opt: $out" || return 1
    done
}

test_a_public_key_is_refused_before_anything_is_sent() {
    run publish --node "$NOBODY" --key "$WORK/author.pub" --image "$FW" \
        --seq 1 --vendor-domain acme.example --class sensor --out m.suit
    expect_rc 3 || return 1
    [[ $err == *"not a private key"* ]] || fail "stderr: $err" || return 1
    [[ ! -e m.suit ]] || fail "m.suit was written"
}

# ---- the envelope is manifest create's -----------------------------------------

# same_as_create ARGS...: `publish --key` to a port nobody listens on, with
# --out, exits 1 (cannot reach) having written exactly the bytes of
# `manifest create --kid ARGS`; with --no-kid, of `manifest create ARGS`.
same_as_create() {
    rm -f pub.suit pub-nokid.suit create.suit create-nokid.suit
    run publish --node "$NOBODY" --image "$FW" --out pub.suit "$@"
    expect_rc 1 || return 1
    [[ $err == *"cannot reach '$NOBODY'"* ]] || fail "stderr: $err" ||
        return 1
    "$DSUIT" manifest create --image "$FW" --kid -o create.suit "$@" \
        >/dev/null || fail "manifest create $*" || return 1
    cmp pub.suit create.suit || fail "publish $* differs from create" ||
        return 1
    run publish --node "$NOBODY" --image "$FW" --out pub-nokid.suit \
        --no-kid "$@"
    expect_rc 1 || return 1
    "$DSUIT" manifest create --image "$FW" -o create-nokid.suit "$@" \
        >/dev/null || fail "manifest create $*" || return 1
    cmp pub-nokid.suit create-nokid.suit ||
        fail "publish --no-kid $* differs from create" || return 1
    # The kid made a difference, so the comparison was not vacuous.
    ! cmp -s pub.suit pub-nokid.suit || fail "--no-kid changed nothing"
}

test_the_out_copy_is_byte_identical_to_manifest_create() {
    same_as_create --key "$KEY" --vendor-domain acme.example --class sensor \
        --seq 1 || return 1
    same_as_create --key "$WORK/ed.key" --alg ed25519 \
        --vendor-id fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe \
        --class-id 1492af14-2569-5e48-bf42-9b2d51f2ab45 --seq 18446744073709551615 ||
        return 1
    same_as_create --key "$KEY" --key "$WORK/ed.key" --alg esp256 \
        --vendor-domain acme.example --class sensor --seq 9 \
        --component usr/0x01 --uri http://fw.example/fw.bin --invoke \
        --reference-uri http://fw.example/fw.suit --sever install,text \
        --text-description "Acme sensor firmware" --vendor-name Acme \
        --model-name S1 --component-description app --component-version 1.2.3 ||
        return 1
    # And it verifies with the author's public key, key id and all.
    run manifest verify pub.suit --key "$WORK/author.pub"
    expect_rc 0 || return 1
    run manifest show pub.suit --json
    jq -e '[.authentication[] | has("kid")] == [true, true]' <<<"$out" \
        >/dev/null || fail "kids: $out"
}

test_out_replaces_a_file_atomically() {
    echo old >m.suit
    run publish --node "$NOBODY" --key "$KEY" --image "$FW" --seq 1 \
        --vendor-domain acme.example --class sensor --out m.suit
    expect_rc 1 || return 1
    "$DSUIT" manifest create --image "$FW" --kid --key "$KEY" --seq 1 \
        --vendor-domain acme.example --class sensor -o c.suit >/dev/null ||
        return 1
    cmp m.suit c.suit || fail "m.suit was not replaced" || return 1
    # No temporary file is left next to it.
    [[ $(find . -maxdepth 1 -name '*m.suit*' | wc -l) -eq 1 ]] ||
        fail "left behind: $(ls -a)" || return 1
    # A folder that does not exist: exit 1 before anything is sent.
    run publish --node "$NOBODY" --key "$KEY" --image "$FW" --seq 1 \
        --vendor-domain acme.example --class sensor --out no/such/m.suit
    expect_rc 1 || return 1
    [[ $err == *"no/such/m.suit"* && $err != *"cannot reach"* ]] ||
        fail "stderr: $err"
}

# ---- a real devnet, in order -------------------------------------------------

D=$WORK/D
URLS=() # the nodes' HTTP URLs

test_publish_1_devnet_comes_up_and_the_author_is_registered() {
    local sj
    run devnet up --nodes 4 --dir "$D" --detach --heartbeat-ms 300
    expect_rc 0 || return 1
    run devnet status --dir "$D" --json
    expect_rc 0 || return 1
    sj=$out
    mapfile -t URLS < <(jq -r '.nodes[].http' <<<"$sj")
    [[ ${#URLS[@]} -eq 4 ]] || fail "nodes: $sj" || return 1
    local u
    for u in "${URLS[@]}"; do
        [[ $u == http://127.0.0.1:* ]] || fail "not on 127.0.0.1: $u" ||
            return 1
    done
    run author register --node "${URLS[0]}" --genesis "$D/genesis.cbor" \
        --registrar-key "$D/registrar-1.key" --author-pub "$WORK/author.pub" \
        --name Acme --vendor-domain acme.example --class sensor --timeout 30
    expect_rc 0
}

test_publish_2_with_key_is_certified() {
    [[ ${#URLS[@]} -eq 4 ]] || fail "no devnet" || return 1
    run publish --node "${URLS[1]}" --key "$KEY" --image "$FW" --seq 1 \
        --vendor-domain acme.example --class sensor --out "$WORK/pub.suit" \
        --timeout 30
    expect_rc 0 || return 1
    [[ $err == *"publish: certified at height "* ]] ||
        fail "stderr: $err" || return 1
    [[ $(line_count "$out") -eq 2 && $(head -n1 <<<"$out") =~ ^manifest\ [0-9a-f]{64}$ &&
        $(tail -n1 <<<"$out") =~ ^tx\ [0-9a-f]{64}$ ]] ||
        fail "stdout: $out" || return 1
    # The kept copy is manifest create's, and its digest is the one printed.
    "$DSUIT" manifest create --vendor-domain acme.example --class sensor \
        --seq 1 --image "$FW" --key "$KEY" --kid -o "$WORK/create.suit" \
        >"$WORK/create.digest" || fail "manifest create" || return 1
    cmp "$WORK/pub.suit" "$WORK/create.suit" ||
        fail "--out differs from manifest create" || return 1
    [[ $(head -n1 <<<"$out") == "manifest $(cat "$WORK/create.digest")" ]] ||
        fail "digest: $out vs $(cat "$WORK/create.digest")"
}

test_publish_3_another_node_serves_exactly_those_bytes() {
    [[ ${#URLS[@]} -eq 4 ]] || fail "no devnet" || return 1
    [[ -f $WORK/pub.suit ]] || fail "nothing was published" || return 1
    local show vendor class t code
    show=$("$DSUIT" manifest show "$WORK/pub.suit" --json) || return 1
    vendor=$(jq -r '.components[0]["vendor-id"]' <<<"$show")
    class=$(jq -r '.components[0]["class-id"]' <<<"$show")
    [[ $vendor =~ ^[0-9a-f-]{36}$ && $class =~ ^[0-9a-f-]{36}$ ]] ||
        fail "ids: $vendor $class" || return 1
    # Certified means a quorum has it; node 4 may apply it a moment later.
    for ((t = 0; t < 50; t++)); do
        code=$(curl -s -o latest.suit -w '%{http_code}' --max-time 5 \
            "${URLS[3]}/v1/manifests/latest?vendor=$vendor&class=$class")
        [[ $code == 200 ]] && cmp -s latest.suit "$WORK/pub.suit" && break
        sleep 0.2
    done
    [[ $code == 200 ]] || fail "HTTP $code from ${URLS[3]}" || return 1
    cmp latest.suit "$WORK/pub.suit" ||
        fail "node 4's latest manifest is not the published envelope"
}

test_publish_4_the_same_seq_again_is_a_rollback() {
    [[ ${#URLS[@]} -eq 4 ]] || fail "no devnet" || return 1
    # Another image, so the manifest differs but its number does not.
    head -c 2000 /dev/urandom >fw2.bin
    run publish --node "${URLS[2]}" --key "$KEY" --image fw2.bin --seq 1 \
        --vendor-domain acme.example --class sensor --out again.suit \
        --timeout 30
    expect_rc 3 || return 1
    [[ $err == *"refused 'again.suit': rollback"* ]] || fail "stderr: $err" ||
        return 1
    [[ $out != *tx* ]] || fail "stdout: $out" || return 1
    # The copy was kept anyway, to publish again with --manifest.
    [[ -s again.suit ]] || fail "again.suit not kept"
}

test_publish_5_the_devnet_goes_down() {
    [[ ${#URLS[@]} -eq 4 ]] || fail "no devnet" || return 1
    run devnet down --dir "$D"
    expect_rc 0
}

run_all_tests
finish
