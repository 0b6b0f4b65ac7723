#!/usr/bin/env bash
# End-to-end tests of `dsuit genesis` and `dsuit genesis show`, run against
# the built binary ($DSUIT_BIN) with keys made by `dsuit keygen`, in a
# scratch folder removed on exit. Each test is a function test_<sentence>;
# exit codes are those of docs/EXIT-CODES.md.
set -u

. "$(dirname "$0")/lib.sh" || exit 1
require_dsuit
require_tool jq "to check --json output"
make_work
umask 022

# Keys shared by all tests: 4 validators (es256 and ed25519 mixed), 3
# registrars, made once.
KEYS=$WORK/keys
mkdir -p "$KEYS"
for n in a b c d; do
    alg=es256
    [[ $n == b || $n == d ]] && alg=ed25519
    "$DSUIT" keygen --alg $alg --out "$KEYS/node-$n" >/dev/null ||
        { echo "test_genesis: keygen failed" >&2; exit 1; }
done
for n in 1 2 3; do
    "$DSUIT" keygen --alg es256 --out "$KEYS/reg-$n" >/dev/null ||
        { echo "test_genesis: keygen failed" >&2; exit 1; }
done

# The arguments of a good genesis, in the array G.
good_args() {
    G=(genesis --chain-id acme-fw
        --validator "node-a=$KEYS/node-a.pub@10.0.0.1:7000/8000/5683"
        --validator "node-b=$KEYS/node-b.pub@[fd00::2]:7001/8001/5684"
        --validator "node-c=$KEYS/node-c.pub@node-c.example:7002/8002/5685"
        --validator "node-d=$KEYS/node-d.pub@127.0.0.1:7003/8003/5686"
        --registrar "$KEYS/reg-1.pub" --registrar "$KEYS/reg-2.pub"
        --registrar "$KEYS/reg-3.pub" --registrar-threshold 2
        --time 1700000000)
}

# ---- create ----------------------------------------------------------------

test_genesis_writes_the_file_and_prints_its_sha256() {
    good_args
    run "${G[@]}" -o g.cbor
    expect_rc 0 || return 1
    [[ -z $err ]] || fail "stderr: $err" || return 1
    [[ $out =~ ^[0-9a-f]{64}$ ]] || fail "output: $out" || return 1
    [[ $out == "$(sha256sum g.cbor | cut -d' ' -f1)" ]] ||
        fail "printed hash is not SHA-256 of the file" || return 1
    [[ $(stat -c %a g.cbor) == 644 ]] || fail "mode $(stat -c %a g.cbor)" ||
        return 1
    # shellcheck disable=SC2012 # plain names, made by this test
    [[ $(ls -A | tr '\n' ' ') == "g.cbor " ]] || fail "folder: $(ls -A)"
}

test_genesis_is_deterministic_for_the_same_time() {
    good_args
    "$DSUIT" "${G[@]}" -o a.cbor >/dev/null || fail "first" || return 1
    "$DSUIT" "${G[@]}" -o b.cbor >/dev/null || fail "second" || return 1
    cmp -s a.cbor b.cbor || fail "two runs differ"
}

test_genesis_from_private_key_files_equals_the_one_from_public_files() {
    good_args
    "$DSUIT" "${G[@]}" -o pub.cbor >/dev/null || fail "from .pub" || return 1
    G=("${G[@]//.pub/.key}")
    run "${G[@]}" -o key.cbor
    expect_rc 0 || return 1
    cmp -s pub.cbor key.cbor || fail "a private key file changed the genesis"
}

test_genesis_show_prints_what_was_given() {
    local id
    good_args
    id=$("$DSUIT" "${G[@]}" -o g.cbor) || fail "create" || return 1
    run genesis show g.cbor
    expect_rc 0 || return 1
    printf '%s\n' "$out" | grep -qx "chain name: acme-fw" || fail "$out" ||
        return 1
    printf '%s\n' "$out" | grep -qx "time: 2023-11-14T22:13:20Z (1700000000)" ||
        fail "time: $out" || return 1
    printf '%s\n' "$out" | grep -qx "chain id: $id" || fail "id: $out" ||
        return 1
    printf '%s\n' "$out" | grep -qx "validators: 4" || return 1
    printf '%s\n' "$out" | grep -qx "  0 node-a es256 $(key_id "$KEYS/node-a.pub") 10.0.0.1 raft 7000 http 8000 coap 5683" ||
        fail "validator 0: $out" || return 1
    printf '%s\n' "$out" | grep -qx "  1 node-b ed25519 $(key_id "$KEYS/node-b.pub") \[fd00::2\] raft 7001 http 8001 coap 5684" ||
        fail "validator 1: $out" || return 1
    printf '%s\n' "$out" | grep -qx "  2 node-c es256 .* node-c.example raft 7002 http 8002 coap 5685" ||
        fail "validator 2: $out" || return 1
    printf '%s\n' "$out" | grep -qx "  2 es256 $(key_id "$KEYS/reg-3.pub")" ||
        fail "registrar 2: $out" || return 1
    printf '%s\n' "$out" | grep -qx "threshold: 2" || return 1
    printf '%s\n' "$out" | grep -qx "quorum: 3" || fail "quorum: $out"
}

test_genesis_show_json_has_every_field() {
    good_args
    "$DSUIT" "${G[@]}" -o g.cbor >/dev/null || fail "create" || return 1
    run genesis show --json g.cbor
    expect_rc 0 || return 1
    printf '%s' "$out" | jq -e --arg a "$(key_id "$KEYS/node-a.pub")" \
        --arg r "$(key_id "$KEYS/reg-2.pub")" \
        --arg id "$(sha256sum g.cbor | cut -d' ' -f1)" '
        .chain_name == "acme-fw" and .time == 1700000000 and
        .time_utc == "2023-11-14T22:13:20Z" and .chain_id == $id and
        (.validators | length) == 4 and
        ([.validators[].name] == ["node-a", "node-b", "node-c", "node-d"]) and
        ([.validators[].index] == [0, 1, 2, 3]) and
        .validators[0].key_id == $a and .validators[0].alg == "es256" and
        .validators[1].alg == "ed25519" and .validators[1].host == "fd00::2" and
        .validators[3].raft_port == 7003 and .validators[3].http_port == 8003 and
        .validators[3].coap_port == 5686 and
        (.registrars | length) == 3 and .registrars[1].key_id == $r and
        .threshold == 2 and
        .policy == {"quorum": 3, "chunk_size": 262144, "replicas": 3,
                    "max_image_size": 104857600, "heartbeat_ms": 5000}
    ' >/dev/null || fail "jq: $out"
}

test_genesis_defaults_threshold_1_and_time_now() {
    local before after t
    before=$(date +%s)
    run genesis --chain-id c --validator "n=$KEYS/node-a.pub@h.example:1/2/3" \
        --registrar "$KEYS/reg-1.pub" --replicas 1 -o g.cbor
    expect_rc 0 || return 1
    after=$(date +%s)
    t=$("$DSUIT" genesis show g.cbor --json | jq .time)
    [[ $t -ge $before && $t -le $after ]] || fail "time $t not now" ||
        return 1
    [[ $("$DSUIT" genesis show g.cbor --json | jq .threshold) == 1 ]] ||
        fail "threshold"
}

test_genesis_policy_options_are_stored() {
    good_args
    run "${G[@]}" --quorum 4 --chunk-size 65536 --replicas 2 \
        --max-image-size 1048576 --heartbeat-ms 250 -o g.cbor
    expect_rc 0 || return 1
    [[ $("$DSUIT" genesis show g.cbor --json | jq -c .policy) == \
        '{"quorum":4,"chunk_size":65536,"replicas":2,"max_image_size":1048576,"heartbeat_ms":250}' ]] ||
        fail "policy: $("$DSUIT" genesis show g.cbor --json | jq -c .policy)"
}

test_genesis_refuses_to_replace_a_file_without_force() {
    good_args
    echo keep >g.cbor
    run "${G[@]}" -o g.cbor
    expect_rc 1 || return 1
    [[ $err == "dsuit genesis: cannot write 'g.cbor': file exists (use --force to replace it)" ]] ||
        fail "message: $err" || return 1
    [[ $(cat g.cbor) == keep ]] || fail "file replaced" || return 1
    run "${G[@]}" -o g.cbor --force
    expect_rc 0
}

test_genesis_cannot_write_into_a_missing_folder() {
    good_args
    run "${G[@]}" -o no/such/g.cbor
    expect_rc 1 || return 1
    [[ $err == "dsuit genesis: cannot write 'no/such/g.cbor': "* ]] ||
        fail "message: $err" || return 1
    [[ $(line_count "$err") -eq 1 ]] || fail "stderr: $err"
}

# ---- bad command lines: exit 2, an error line and the hint -------------------

# expect_usage "message part" ARGS...: a genesis usage error (see
# expect_usage_message), and no g.cbor written.
expect_usage() {
    local want=$1
    shift
    expect_usage_message genesis "$want" "$@" || return 1
    [[ ! -e g.cbor ]] || fail "g.cbor was written"
}

test_genesis_missing_options_exit_2() {
    local v="n=$KEYS/node-a.pub@h.example:1/2/3" r=$KEYS/reg-1.pub
    expect_usage "missing option '--validator'" genesis --chain-id c \
        --registrar "$r" -o g.cbor || return 1
    expect_usage "missing option '--registrar'" genesis --chain-id c \
        --validator "$v" -o g.cbor || return 1
    expect_usage "missing option '--chain-id'" genesis --validator "$v" \
        --registrar "$r" -o g.cbor || return 1
    expect_usage "missing option '--out'" genesis --chain-id c \
        --validator "$v" --registrar "$r"
}

test_genesis_malformed_validator_specs_exit_2() {
    local p=$KEYS/node-a.pub spec
    local -a rows=(
        "node-a|expected NAME=PUB@HOST"
        "=$p@h:1/2/3|validator name is empty"
        "node a=$p@h:1/2/3|validator name may hold only"
        "$(printf 'n%.0s' {1..64})=$p@h:1/2/3|validator name is longer than 63"
        "node-a=@h:1/2/3|key file name is empty"
        "node-a=$p|missing '@HOST"
        "node-a=$p@h|missing ':RAFTPORT"
        "node-a=$p@:1/2/3|host is empty"
        "node-a=$p@bad_host!:1/2/3|host is not an IPv4 address or a DNS name"
        "node-a=$p@999.1.1.1:1/2/3|host is not an IPv4 address or a DNS name"
        "node-a=$p@-h.example:1/2/3|host is not an IPv4 address or a DNS name"
        "node-a=$p@::1:1/2/3|an IPv6 address must be written"
        "node-a=$p@[::1:1/2/3|an IPv6 address must be written"
        "node-a=$p@[nope]:1/2/3|not a valid IPv6 address"
        "node-a=$p@h:1/2|expected three ports"
        "node-a=$p@h:1/2/3/4|expected three ports"
        "node-a=$p@h:0/2/3|a port is not a number from 1 to 65535"
        "node-a=$p@h:1/65536/3|a port is not a number from 1 to 65535"
        "node-a=$p@h:1/2/x|a port is not a number from 1 to 65535"
        "node-a=$p@h:1/2/-3|a port is not a number from 1 to 65535"
    )
    for row in "${rows[@]}"; do
        spec=${row%%|*}
        expect_usage "bad validator '$spec': ${row#*|}" genesis --chain-id c \
            --validator "$spec" --registrar "$KEYS/reg-1.pub" -o g.cbor ||
            fail "row: $row" || return 1
    done
}

test_genesis_duplicate_validator_names_exit_2() {
    expect_usage "the name 'node-a' is already used" genesis --chain-id c \
        --validator "node-a=$KEYS/node-a.pub@h.example:1/2/3" \
        --validator "node-a=$KEYS/node-b.pub@h.example:4/5/6" \
        --registrar "$KEYS/reg-1.pub" -o g.cbor
}

test_genesis_threshold_above_the_registrars_exits_2() {
    good_args
    expect_usage "invalid genesis: registrar threshold must be 1 to the number of registrars" \
        "${G[@]}" --registrar-threshold 4 -o g.cbor || return 1
    expect_usage "invalid genesis: registrar threshold" \
        "${G[@]}" --registrar-threshold 0 -o g.cbor
}

test_genesis_policy_the_rules_refuse_exits_2() {
    good_args
    expect_usage "invalid genesis: quorum must be a majority" "${G[@]}" \
        --quorum 2 -o g.cbor || return 1
    expect_usage "invalid genesis: quorum must be a majority" "${G[@]}" \
        --quorum 5 -o g.cbor || return 1
    expect_usage "option '--quorum' must be at least 1" "${G[@]}" \
        --quorum 0 -o g.cbor || return 1
    expect_usage "invalid genesis: replicas" "${G[@]}" --replicas 5 \
        -o g.cbor || return 1
    expect_usage "invalid genesis: chunk size" "${G[@]}" --chunk-size 1000 \
        -o g.cbor || return 1
    expect_usage "invalid genesis: max image size" "${G[@]}" \
        --max-image-size 0 -o g.cbor
}

test_genesis_bad_numbers_and_names_exit_2() {
    good_args
    expect_usage "option '--quorum' needs a number, not 'three'" "${G[@]}" \
        --quorum three -o g.cbor || return 1
    expect_usage "option '--time' needs a number, not '-1'" "${G[@]}" \
        --time -1 -o g.cbor || return 1
    expect_usage "option '--chunk-size' needs a number" "${G[@]}" \
        --chunk-size 99999999999999999999999 -o g.cbor || return 1
    expect_usage "chain name 'a b' must be" genesis --chain-id "a b" \
        --validator "n=$KEYS/node-a.pub@h.example:1/2/3" \
        --registrar "$KEYS/reg-1.pub" -o g.cbor || return 1
    expect_usage "unknown option '--validators'" "${G[@]}" \
        --validators x -o g.cbor || return 1
    expect_usage "unexpected argument 'stray'" "${G[@]}" -o g.cbor stray
}

# ---- key files: exit 3 (not acceptable) or 1 (unreadable) --------------------

# expect_reject "message part" ARGS...
expect_reject() {
    local want=$1
    shift
    run "$@"
    expect_rc 3 || return 1
    [[ -z $out ]] || fail "stdout: $out" || return 1
    [[ $(line_count "$err") -eq 1 ]] || fail "stderr: $err" || return 1
    [[ $err == "dsuit genesis: "*"$want"* ]] || fail "message: $err" ||
        return 1
    [[ ! -e g.cbor ]] || fail "g.cbor was written"
}

test_genesis_same_key_for_two_validators_exits_3() {
    expect_reject "cannot use key '$KEYS/node-a.key': validator 'a' has the same key (from '$KEYS/node-a.pub')" \
        genesis --chain-id c \
        --validator "a=$KEYS/node-a.pub@h.example:1/2/3" \
        --validator "b=$KEYS/node-a.key@h.example:4/5/6" \
        --registrar "$KEYS/reg-1.pub" --replicas 1 -o g.cbor
}

test_genesis_same_key_for_two_registrars_exits_3() {
    expect_reject "cannot use key '$KEYS/reg-1.key': registrar 0 ('$KEYS/reg-1.pub') has the same key" \
        genesis --chain-id c --validator "a=$KEYS/node-a.pub@h.example:1/2/3" \
        --registrar "$KEYS/reg-1.pub" --registrar "$KEYS/reg-1.key" \
        --replicas 1 -o g.cbor
}

test_genesis_key_files_that_are_not_keys_exit_3() {
    head -c 100 /dev/urandom >garbage.pub
    : >empty.pub
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
        -out p384.pem 2>/dev/null || fail "openssl P-384" || return 1
    for f in garbage.pub empty.pub p384.pem; do
        expect_reject "cannot load key '$f': " genesis --chain-id c \
            --validator "a=$f@h.example:1/2/3" \
            --registrar "$KEYS/reg-1.pub" --replicas 1 -o g.cbor ||
            fail "validator key $f" || return 1
        expect_reject "cannot load key '$f': " genesis --chain-id c \
            --validator "a=$KEYS/node-a.pub@h.example:1/2/3" \
            --registrar "$f" --replicas 1 -o g.cbor ||
            fail "registrar key $f" || return 1
    done
}

test_genesis_missing_key_file_exits_1() {
    run genesis --chain-id c --validator "a=nope.pub@h.example:1/2/3" \
        --registrar "$KEYS/reg-1.pub" --replicas 1 -o g.cbor
    expect_rc 1 || return 1
    [[ $err == "dsuit genesis: cannot read 'nope.pub': No such file or directory" ]] ||
        fail "message: $err" || return 1
    [[ ! -e g.cbor ]] || fail "written"
}

test_genesis_unreadable_key_file_exits_1() {
    [[ $(id -u) -ne 0 ]] || { echo "    (root: permissions not enforced)"; return 0; }
    cp "$KEYS/reg-1.pub" locked.pub && chmod 000 locked.pub
    run genesis --chain-id c --validator "a=$KEYS/node-a.pub@h.example:1/2/3" \
        --registrar locked.pub --replicas 1 -o g.cbor
    expect_rc 1 || return 1
    [[ $err == "dsuit genesis: cannot read 'locked.pub': Permission denied" ]] ||
        fail "message: $err"
}

# ---- show ------------------------------------------------------------------

test_genesis_show_rejects_files_that_are_not_a_genesis() {
    good_args
    "$DSUIT" "${G[@]}" -o g.cbor >/dev/null || fail "create" || return 1
    cp "$KEYS/node-a.pub" key.cbor
    head -c 50 g.cbor >cut.cbor
    : >empty.cbor
    # One byte of the chain name changed: still a valid genesis, of
    # another chain (show checks form, not provenance).
    cp g.cbor name.cbor && printf 'X' | dd of=name.cbor bs=1 seek=4 \
        conv=notrunc 2>/dev/null
    for f in key.cbor cut.cbor empty.cbor; do
        run genesis show "$f"
        expect_rc 3 || fail "$f" || return 1
        [[ $err == "dsuit genesis show: rejected '$f': "* ]] ||
            fail "message: $err" || return 1
        [[ $(line_count "$err") -eq 1 ]] || fail "stderr: $err" || return 1
    done
    run genesis show name.cbor
    expect_rc 0 || return 1
    [[ $out == *"chain name: aXme-fw"* ]] || fail "output: $out"
}

test_genesis_show_missing_file_exits_1() {
    run genesis show nope.cbor
    expect_rc 1 || return 1
    [[ $err == "dsuit genesis show: cannot read 'nope.cbor': No such file or directory" ]] ||
        fail "message: $err"
}

test_genesis_show_usage_errors_exit_2() {
    run genesis show
    expect_rc 2 || return 1
    [[ $err == "dsuit genesis show: missing genesis FILE"$'\n'"try 'dsuit genesis show --help'" ]] ||
        fail "stderr: $err" || return 1
    run genesis show a b
    expect_rc 2 || return 1
    run genesis show --yaml a
    expect_rc 2
}

test_genesis_help_exits_0_on_stdout() {
    expect_help "genesis --help" "genesis -h" "genesis show --help" ||
        return 1
    run --help
    printf '%s\n' "$out" | grep -Eq '^  genesis +[a-z]' || fail "not listed"
}

# ---- run -------------------------------------------------------------------

run_all_tests
finish
