#!/usr/bin/env bash
# End-to-end tests of `dsuit author` and `dsuit tx` without a network: the
# offline registrar flow (register with -o signed by one of two registrars,
# `tx sign` by the other), `tx show`, revoke and rotate files, and the exit
# codes of docs/EXIT-CODES.md for bad options (2), missing files (1) and
# unacceptable keys or files (3). Runs against the built binary
# ($DSUIT_BIN) in a scratch folder removed on exit. The networked parts
# (--node, tx submit to live nodes) are in test_author_tx_net.sh.
set -u

. "$(dirname "$0")/lib.sh" || exit 1
require_dsuit
require_tool jq "to check --json output"
make_work
umask 022

# ---- helpers ---------------------------------------------------------------

# Keys and a genesis shared by all tests: 4 validators, 2 registrars with
# threshold 2, and three author keys.
KEYS=$WORK/keys
mkdir -p "$KEYS"
mk() {
    "$DSUIT" keygen --alg "$1" --out "$KEYS/$2" >/dev/null ||
        { echo "test_author_tx: keygen $2 failed" >&2; exit 1; }
}
for n in a b c d; do mk ed25519 "node-$n"; done
mk es256 reg-1
mk ed25519 reg-2
mk es256 outsider
mk es256 author
mk ed25519 author-new
GEN=$KEYS/genesis.cbor
CHAIN=$("$DSUIT" genesis --chain-id acme-fw \
    --validator "node-a=$KEYS/node-a.pub@127.0.0.1:7000/8000/5683" \
    --validator "node-b=$KEYS/node-b.pub@127.0.0.1:7001/8001/5684" \
    --validator "node-c=$KEYS/node-c.pub@127.0.0.1:7002/8002/5685" \
    --validator "node-d=$KEYS/node-d.pub@127.0.0.1:7003/8003/5686" \
    --registrar "$KEYS/reg-1.pub" --registrar "$KEYS/reg-2.pub" \
    --registrar-threshold 2 --time 1700000000 -o "$GEN") ||
    { echo "test_author_tx: genesis failed" >&2; exit 1; }
REG1=$(key_id "$KEYS/reg-1.pub")
REG2=$(key_id "$KEYS/reg-2.pub")
AUTHOR=$(key_id "$KEYS/author.pub")
AUTHOR_NEW=$(key_id "$KEYS/author-new.pub")
if [[ ! $REG1 =~ ^[0-9a-f]{64}$ || ! $AUTHOR =~ ^[0-9a-f]{64}$ ]]; then
    echo "test_author_tx: cannot read key ids" >&2
    exit 1
fi

# UUIDv5(DNS, "acme.example") and UUIDv5(that, "sensor" / "gateway"),
# computed independently (Python's uuid module).
VENDOR=0637e301-e05d-505b-8267-486f5677de9b
CLASS_SENSOR=f19eb9bd-6343-532d-b65e-1aa7d46033af
CLASS_GW=41cd13af-6bbd-579e-8c77-1e3f0401e9fc

# A register-author signed by registrar 1 only, in the array R.
register_args() {
    R=(author register --genesis "$GEN" --registrar-key "$KEYS/reg-1.key"
       --author-pub "$KEYS/author.pub" --name "Acme Firmware"
       --vendor-domain acme.example --class sensor --class gw)
}

json_field() {
    "$DSUIT" tx show "$1" --json | jq -r "$2"
}

# ---- register, sign, show --------------------------------------------------

test_register_writes_a_transaction_signed_by_one_of_two_registrars() {
    register_args
    run "${R[@]}" -o r.tx
    expect_rc 0 || return 1
    [[ -s r.tx ]] || fail "no r.tx" || return 1
    printf '%s\n' "$out" | grep -qE '^id: [0-9a-f]{64}$' || fail "$out" ||
        return 1
    printf '%s\n' "$out" | grep -qx 'signatures: 1 of 2 needed' ||
        fail "$out" || return 1
    run tx show r.tx
    expect_rc 0 || return 1
    printf '%s\n' "$out" | grep -qx 'signers: 1' || fail "$out" || return 1
    printf '%s\n' "$out" | grep -qx "  0 $REG1 ES256" || fail "$out"
}

test_tx_show_prints_every_field_of_a_register_author() {
    local id
    register_args
    id=$("$DSUIT" "${R[@]}" --nonce 42 -o r.tx | sed -n 's/^id: //p')
    run tx show r.tx
    expect_rc 0 || return 1
    for line in "type: register-author (1)" "chain: $CHAIN" "nonce: 42" \
        "tx id: $id" "author key: es256 $AUTHOR" "name: Acme Firmware" \
        "vendor id: $VENDOR" "class ids: 2" "  $CLASS_SENSOR" \
        "  $CLASS_GW"; do
        printf '%s\n' "$out" | grep -qxF -- "$line" ||
            fail "missing '$line' in: $out" || return 1
    done
}

test_tx_show_json_has_the_payload_and_signers() {
    register_args
    "$DSUIT" "${R[@]}" --nonce 7 -o r.tx >/dev/null || fail "register" ||
        return 1
    run tx show r.tx --json
    expect_rc 0 || return 1
    [[ $(jq -r .type <<<"$out") == register-author ]] || fail "$out" ||
        return 1
    [[ $(jq -r .type_code <<<"$out") == 1 ]] || return 1
    [[ $(jq -r .chain <<<"$out") == "$CHAIN" ]] || fail "chain" || return 1
    [[ $(jq -r .nonce <<<"$out") == 7 ]] || fail "nonce" || return 1
    [[ $(jq -r .payload.author.key_id <<<"$out") == "$AUTHOR" ]] ||
        fail "author" || return 1
    [[ $(jq -r .payload.vendor_id <<<"$out") == "$VENDOR" ]] ||
        fail "vendor" || return 1
    [[ $(jq -c .payload.class_ids <<<"$out") == "[\"$CLASS_SENSOR\",\"$CLASS_GW\"]" ]] ||
        fail "classes $(jq -c .payload.class_ids <<<"$out")" || return 1
    [[ $(jq -r '.signers | length' <<<"$out") == 1 ]] || return 1
    [[ $(jq -r '.signers[0].key_id' <<<"$out") == "$REG1" ]] || return 1
    [[ $(jq -r '.signers[0].alg' <<<"$out") == -7 ]] || fail "alg"
}

test_tx_sign_adds_the_second_registrar_and_keeps_key_id_order() {
    local ids sorted
    register_args
    "$DSUIT" "${R[@]}" -o r.tx >/dev/null || fail "register" || return 1
    run tx sign --key "$KEYS/reg-2.key" r.tx -o r2.tx
    expect_rc 0 || return 1
    printf '%s\n' "$out" | grep -qx "signed by: $REG2" || fail "$out" ||
        return 1
    printf '%s\n' "$out" | grep -qx "signatures: 2" || fail "$out" || return 1
    run tx show r2.tx
    expect_rc 0 || return 1
    printf '%s\n' "$out" | grep -qx 'signers: 2' || fail "$out" || return 1
    ids=$(json_field r2.tx '.signers[].key_id')
    sorted=$(printf '%s\n' "$REG1" "$REG2" | LC_ALL=C sort)
    [[ $ids == "$sorted" ]] || fail "signers '$ids', expected '$sorted'"
}

test_tx_sign_in_place_replaces_the_file() {
    register_args
    "$DSUIT" "${R[@]}" -o r.tx >/dev/null || fail "register" || return 1
    run tx sign --key "$KEYS/reg-2.key" r.tx -o r.tx
    expect_rc 0 || return 1
    [[ $(json_field r.tx '.signers | length') == 2 ]] || fail "not signed"
}

test_tx_sign_refuses_a_key_that_already_signed() {
    register_args
    "$DSUIT" "${R[@]}" -o r.tx >/dev/null || fail "register" || return 1
    run tx sign --key "$KEYS/reg-1.key" r.tx -o again.tx
    expect_rc 3 || return 1
    [[ $err == *"already signed"* ]] || fail "stderr: $err" || return 1
    [[ ! -e again.tx ]] || fail "wrote again.tx" || return 1
    "$DSUIT" tx sign --key "$KEYS/reg-2.key" r.tx -o r2.tx >/dev/null ||
        fail "second signature" || return 1
    run tx sign --key "$KEYS/reg-2.key" r2.tx -o r3.tx
    expect_rc 3 || return 1
    [[ ! -e r3.tx ]] || fail "wrote r3.tx"
}

test_tx_id_does_not_change_when_signatures_are_added() {
    local id0 id1 id2
    register_args
    id0=$("$DSUIT" "${R[@]}" -o r.tx | sed -n 's/^id: //p')
    "$DSUIT" tx sign --key "$KEYS/reg-2.key" r.tx -o r2.tx >/dev/null ||
        fail "sign" || return 1
    id1=$(json_field r.tx .id)
    id2=$(json_field r2.tx .id)
    [[ $id0 =~ ^[0-9a-f]{64}$ && $id0 == "$id1" && $id1 == "$id2" ]] ||
        fail "ids '$id0' '$id1' '$id2'" || return 1
    if cmp -s r.tx r2.tx; then
        fail "signing changed nothing"
        return 1
    fi
    return 0
}

test_register_signs_with_both_registrars_at_once() {
    register_args
    run "${R[@]}" --registrar-key "$KEYS/reg-2.key" -o r.tx
    expect_rc 0 || return 1
    printf '%s\n' "$out" | grep -qx 'signatures: 2 of 2 needed' ||
        fail "$out" || return 1
    [[ $(json_field r.tx '.signers | length') == 2 ]] || fail "signers"
}

test_register_with_a_nonce_is_reproducible_and_without_one_is_not() {
    register_args
    "$DSUIT" "${R[@]}" --nonce 9 -o a.tx >/dev/null || return 1
    "$DSUIT" "${R[@]}" --nonce 9 -o b.tx >/dev/null || return 1
    cmp -s a.tx b.tx || fail "same nonce, different bytes" || return 1
    "$DSUIT" "${R[@]}" -o c.tx >/dev/null || return 1
    "$DSUIT" "${R[@]}" -o d.tx >/dev/null || return 1
    [[ $(json_field c.tx .id) != "$(json_field d.tx .id)" ]] ||
        fail "two random nonces gave one tx id"
}

test_register_without_classes_has_none() {
    run author register --genesis "$GEN" --registrar-key "$KEYS/reg-2.key" \
        --author-pub "$KEYS/author.key" --name n --vendor-domain acme.example \
        -o r.tx
    expect_rc 0 || return 1
    [[ $(json_field r.tx '.payload.class_ids | length') == 0 ]] || return 1
    # Of a private key file only the public half goes in.
    [[ $(json_field r.tx .payload.author.key_id) == "$AUTHOR" ]] ||
        fail "author key id"
}

# ---- revoke, rotate --------------------------------------------------------

test_revoke_by_public_key_and_by_key_id_name_the_same_author() {
    run author revoke --genesis "$GEN" --registrar-key "$KEYS/reg-1.key" \
        --registrar-key "$KEYS/reg-2.key" --author-pub "$KEYS/author.pub" \
        --reason "key leaked" --nonce 5 -o by-pub.tx
    expect_rc 0 || return 1
    run author revoke --genesis "$GEN" --registrar-key "$KEYS/reg-2.key" \
        --registrar-key "$KEYS/reg-1.key" --key-id "${AUTHOR^^}" \
        --reason "key leaked" --nonce 5 -o by-id.tx
    expect_rc 0 || return 1
    cmp -s by-pub.tx by-id.tx || fail "the two revokes differ" || return 1
    run tx show by-id.tx
    expect_rc 0 || return 1
    for line in "type: revoke-author (2)" "author key id: $AUTHOR" \
        "reason: key leaked" "signers: 2"; do
        printf '%s\n' "$out" | grep -qxF -- "$line" ||
            fail "missing '$line' in: $out" || return 1
    done
}

test_revoke_reason_may_be_empty_and_control_characters_are_not_printed() {
    run author revoke --genesis "$GEN" --registrar-key "$KEYS/reg-1.key" \
        --key-id "$AUTHOR" --reason "" -o empty.tx
    expect_rc 0 || return 1
    run author revoke --genesis "$GEN" --registrar-key "$KEYS/reg-1.key" \
        --key-id "$AUTHOR" --reason $'two\nlines\e[2J' -o ctl.tx
    expect_rc 0 || return 1
    run tx show ctl.tx
    expect_rc 0 || return 1
    printf '%s\n' "$out" | grep -qxF 'reason: two?lines?[2J' || fail "$out"
}

test_rotate_is_signed_by_the_old_key_and_names_the_new_one() {
    run author rotate --genesis "$GEN" --key "$KEYS/author.key" \
        --new-pub "$KEYS/author-new.pub" -o rot.tx
    expect_rc 0 || return 1
    printf '%s\n' "$out" | grep -qx 'signatures: 1 of 1 needed' ||
        fail "$out" || return 1
    run tx show rot.tx
    expect_rc 0 || return 1
    for line in "type: rotate-author-key (3)" "chain: $CHAIN" \
        "old key id: $AUTHOR" "new key: ed25519 $AUTHOR_NEW" "signers: 1" \
        "  0 $AUTHOR ES256"; do
        printf '%s\n' "$out" | grep -qxF -- "$line" ||
            fail "missing '$line' in: $out" || return 1
    done
}

# ---- exit codes ------------------------------------------------------------

test_bad_options_exit_2_with_a_hint() {
    local -a cases
    local base="author register --genesis $GEN --registrar-key $KEYS/reg-1.key --author-pub $KEYS/author.pub --name n --vendor-domain v.example"
    local long
    long=$(printf 'x%.0s' $(seq 129))
    cases=(
        "author"
        "author frobnicate"
        "author register --bogus"
        "$base"
        "author register -o x.tx --registrar-key $KEYS/reg-1.key --author-pub $KEYS/author.pub --name n --vendor-domain v.example"
        "$base -o x.tx extra"
        "$base -o x.tx --nonce -1"
        "$base -o x.tx --nonce 18446744073709551616"
        "$base -o x.tx --nonce 12x"
        "$base --node ftp://127.0.0.1:1"
        "$base --node http://127.0.0.1:1/v1/tx"
        "$base --node http://127.0.0.1:1 --timeout 0"
        "$base --node http://127.0.0.1:1 --timeout -3"
        "$base --node http://127.0.0.1:1 --timeout nan"
        "$base -o"
        "author register --genesis $GEN --registrar-key $KEYS/reg-1.key --author-pub $KEYS/author.pub --vendor-domain v.example -o x.tx"
        "author register --genesis $GEN --registrar-key $KEYS/reg-1.key --author-pub $KEYS/author.pub --name $long --vendor-domain v.example -o x.tx"
        "author register --genesis $GEN --registrar-key $KEYS/reg-1.key --author-pub $KEYS/author.pub --name n -o x.tx"
        "author register --genesis $GEN --author-pub $KEYS/author.pub --name n --vendor-domain v.example -o x.tx"
        "author register --genesis $GEN --registrar-key $KEYS/reg-1.key --name n --vendor-domain v.example -o x.tx"
        "$base -o x.tx --class a --class a"
        "author revoke --genesis $GEN --registrar-key $KEYS/reg-1.key --reason r -o x.tx"
        "author revoke --genesis $GEN --registrar-key $KEYS/reg-1.key --author-pub $KEYS/author.pub --key-id $AUTHOR --reason r -o x.tx"
        "author revoke --genesis $GEN --registrar-key $KEYS/reg-1.key --key-id abcd --reason r -o x.tx"
        "author revoke --genesis $GEN --registrar-key $KEYS/reg-1.key --key-id ${AUTHOR:0:63}g --reason r -o x.tx"
        "author revoke --genesis $GEN --registrar-key $KEYS/reg-1.key --key-id $AUTHOR -o x.tx"
        "author revoke --genesis $GEN --registrar-key $KEYS/reg-1.key --key-id $AUTHOR --reason $long -o x.tx"
        "author revoke --genesis $GEN --registrar-key $KEYS/reg-1.key --key-id $AUTHOR --reason r --name n -o x.tx"
        "author rotate --genesis $GEN --new-pub $KEYS/author-new.pub -o x.tx"
        "author rotate --genesis $GEN --key $KEYS/author.key -o x.tx"
        "author rotate --genesis $GEN --key $KEYS/author.key --new-pub $KEYS/author-new.pub --registrar-key $KEYS/reg-1.key -o x.tx"
        "tx"
        "tx frobnicate"
        "tx show"
        "tx show a.tx b.tx"
        "tx show --bogus a.tx"
        "tx sign a.tx -o b.tx"
        "tx sign --key $KEYS/reg-1.key a.tx"
        "tx sign --key $KEYS/reg-1.key -o b.tx"
        "tx submit a.tx"
        "tx submit --node 127.0.0.1:8000 a.tx"
        "tx submit --node http://127.0.0.1:1 --wait done a.tx"
        "tx submit --node http://127.0.0.1:1 --wait certified a.tx"
        "tx submit --node http://127.0.0.1:1 --timeout 1e3 a.tx"
        "tx submit --node http://127.0.0.1:1 --timeout 86401 a.tx"
    )
    for c in "${cases[@]}"; do
        # shellcheck disable=SC2086 # word splitting wanted: paths have none
        run $c
        [[ $rc -eq 2 ]] || fail "'$c': exit $rc, expected 2; stderr: $err" ||
            return 1
        [[ $err == *"try 'dsuit "* ]] || fail "'$c': no hint: $err" ||
            return 1
        [[ -z $out ]] || fail "'$c': stdout: $out" || return 1
    done
    [[ ! -e x.tx ]] || fail "a refused command wrote x.tx"
}

test_node_with_fewer_registrar_keys_than_the_threshold_exits_2() {
    register_args
    run "${R[@]}" --node http://127.0.0.1:1
    expect_rc 2 || return 1
    [[ $err == *"needs 2 registrar signatures"* ]] || fail "stderr: $err"
}

test_too_many_classes_exit_2() {
    local -a cls=()
    register_args
    for i in $(seq 17); do cls+=(--class "c$i"); done
    run "${R[@]}" "${cls[@]}" -o x.tx
    expect_rc 2 || return 1
    run "${R[@]}" "${cls[@]:6}" -o y.tx # 14 + the 2 of R
    expect_rc 0 || return 1
    [[ $(json_field y.tx '.payload.class_ids | length') == 16 ]] ||
        fail "16 classes"
}

test_missing_files_exit_1() {
    local -a cases
    register_args
    "$DSUIT" "${R[@]}" -o r.tx >/dev/null || return 1
    cases=(
        "author register --genesis nope.cbor --registrar-key $KEYS/reg-1.key --author-pub $KEYS/author.pub --name n --vendor-domain v -o x.tx"
        "author register --genesis $GEN --registrar-key nope.key --author-pub $KEYS/author.pub --name n --vendor-domain v -o x.tx"
        "author register --genesis $GEN --registrar-key $KEYS/reg-1.key --author-pub nope.pub --name n --vendor-domain v -o x.tx"
        "author register --genesis $GEN --registrar-key $KEYS/reg-1.key --author-pub $KEYS/author.pub --name n --vendor-domain v -o nodir/x.tx"
        "author revoke --genesis $GEN --registrar-key $KEYS/reg-1.key --author-pub nope.pub --reason r -o x.tx"
        "author rotate --genesis $GEN --key nope.key --new-pub $KEYS/author-new.pub -o x.tx"
        "author rotate --genesis $GEN --key $KEYS/author.key --new-pub nope.pub -o x.tx"
        "tx show nope.tx"
        "tx sign --key $KEYS/reg-2.key nope.tx -o x.tx"
        "tx sign --key nope.key r.tx -o x.tx"
        "tx sign --key $KEYS/reg-2.key r.tx -o nodir/x.tx"
        "tx submit --node http://127.0.0.1:1 nope.tx"
        "tx submit --node http://127.0.0.1:1 --genesis nope.cbor r.tx"
    )
    for c in "${cases[@]}"; do
        # shellcheck disable=SC2086
        run $c
        [[ $rc -eq 1 ]] || fail "'$c': exit $rc, expected 1; stderr: $err" ||
            return 1
        [[ $err == "dsuit "*": "*"'"*"': "* ]] || fail "'$c': message: $err" ||
            return 1
        [[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] ||
            fail "'$c': more than one line: $err" || return 1
    done
    [[ ! -e x.tx ]] || fail "wrote x.tx"
}

test_a_public_key_where_a_private_key_is_needed_exits_3() {
    local -a cases
    register_args
    "$DSUIT" "${R[@]}" -o r.tx >/dev/null || return 1
    cases=(
        "author register --genesis $GEN --registrar-key $KEYS/reg-1.pub --author-pub $KEYS/author.pub --name n --vendor-domain v -o x.tx"
        "author revoke --genesis $GEN --registrar-key $KEYS/reg-2.pub --key-id $AUTHOR --reason r -o x.tx"
        "author rotate --genesis $GEN --key $KEYS/author.pub --new-pub $KEYS/author-new.pub -o x.tx"
        "tx sign --key $KEYS/reg-2.pub r.tx -o x.tx"
    )
    for c in "${cases[@]}"; do
        # shellcheck disable=SC2086
        run $c
        [[ $rc -eq 3 ]] || fail "'$c': exit $rc, expected 3; stderr: $err" ||
            return 1
        [[ $err == *"not a private key"* ]] || fail "'$c': $err" || return 1
    done
    [[ ! -e x.tx ]] || fail "wrote x.tx"
}

test_unacceptable_keys_and_files_exit_3() {
    local -a cases
    printf 'not cbor' >junk.tx
    printf '\x82\x41\x00\x80' >short.tx
    printf 'junk' >junk.key
    register_args
    "$DSUIT" "${R[@]}" -o r.tx >/dev/null || return 1
    cases=(
        "author register --genesis $GEN --registrar-key $KEYS/outsider.key --author-pub $KEYS/author.pub --name n --vendor-domain v -o x.tx"
        "author register --genesis $GEN --registrar-key $KEYS/reg-1.key --registrar-key $KEYS/reg-1.key --author-pub $KEYS/author.pub --name n --vendor-domain v -o x.tx"
        "author register --genesis $GEN --registrar-key junk.key --author-pub $KEYS/author.pub --name n --vendor-domain v -o x.tx"
        "author register --genesis $GEN --registrar-key $KEYS/reg-1.key --author-pub junk.key --name n --vendor-domain v -o x.tx"
        "author register --genesis junk.tx --registrar-key $KEYS/reg-1.key --author-pub $KEYS/author.pub --name n --vendor-domain v -o x.tx"
        "author rotate --genesis $GEN --key $KEYS/author.key --new-pub $KEYS/author.pub -o x.tx"
        "tx show junk.tx"
        "tx show short.tx"
        "tx show $GEN"
        "tx sign --key $KEYS/reg-2.key junk.tx -o x.tx"
        "tx sign --key junk.key r.tx -o x.tx"
        "tx submit --node http://127.0.0.1:1 junk.tx"
    )
    for c in "${cases[@]}"; do
        # shellcheck disable=SC2086
        run $c
        [[ $rc -eq 3 ]] || fail "'$c': exit $rc, expected 3; stderr: $err" ||
            return 1
        [[ -n $err ]] || fail "'$c': no message" || return 1
    done
    [[ ! -e x.tx ]] || fail "wrote x.tx"
}

test_submit_to_another_chain_than_the_genesis_exits_3_before_sending() {
    local other
    other=$KEYS/other.cbor
    "$DSUIT" genesis --chain-id other \
        --validator "n=$KEYS/node-a.pub@127.0.0.1:7000/8000/5683" \
        --registrar "$KEYS/reg-1.pub" --replicas 1 -o "$other" >/dev/null ||
        return 1
    register_args
    "$DSUIT" "${R[@]}" -o r.tx >/dev/null || return 1
    # Port 1: nothing listens, so only an early refusal gives 3.
    run tx submit --node http://127.0.0.1:1 --genesis "$other" r.tx
    expect_rc 3 || return 1
    [[ $err == *"another chain"* ]] || fail "stderr: $err"
}

test_submit_to_a_node_that_does_not_answer_exits_1() {
    register_args
    "$DSUIT" "${R[@]}" -o r.tx >/dev/null || return 1
    run tx submit --node http://127.0.0.1:1 r.tx --timeout 5
    expect_rc 1 || return 1
    [[ $err == "dsuit tx submit: cannot reach 'http://127.0.0.1:1': "* ]] ||
        fail "stderr: $err" || return 1
    "$DSUIT" tx sign --key "$KEYS/reg-2.key" r.tx -o r.tx >/dev/null ||
        return 1
    run author register --genesis "$GEN" --registrar-key "$KEYS/reg-1.key" \
        --registrar-key "$KEYS/reg-2.key" --author-pub "$KEYS/author.pub" \
        --name n --vendor-domain v --node http://127.0.0.1:1 --timeout 5
    expect_rc 1
}

test_help_exits_0_on_stdout() {
    expect_help "author --help" "author register --help" "author revoke -h" \
        "author rotate --help" "tx --help" "tx sign --help" "tx show -h" \
        "tx submit --help"
}

# ---- run -------------------------------------------------------------------

run_all_tests
finish
