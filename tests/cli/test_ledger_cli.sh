#!/usr/bin/env bash
# End-to-end tests of `dsuit ledger verify` and `dsuit ledger show` against
# the built binary ($DSUIT_BIN). No dsuit command writes a ledger yet, so
# the ledger folder comes from the fixture builder
# ($DSUIT_BUILD_DIR/ledger_test_ledger_cli_fixture with
# DSUIT_LEDGER_FIXTURE=DIR; see tests/ledger/test_ledger_cli_fixture.c):
#
#   height 1 register-author, 2-4 publish seq 1-3,
#   height 5 publish seq 1 again (rollback) + register-device (ok)
#
# Each test is a function test_<sentence>; exit codes are those of
# docs/EXIT-CODES.md. The tamper case (exit 3 naming the block) is in the
# fixture's own cmocka test.
set -u

. "$(dirname "$0")/lib.sh" || exit 1
require_dsuit
BUILD=${DSUIT_BUILD_DIR:-}
FIXTURE_BIN=$BUILD/ledger_test_ledger_cli_fixture
if [[ -z $BUILD || ! -x $FIXTURE_BIN ]]; then
    echo "test_ledger_cli: fixture builder not found: '$FIXTURE_BIN' (set DSUIT_BUILD_DIR)" >&2
    exit 1
fi
require_tool jq "to check --json output"

# The fixture leaves read-only folders: make them writable to remove them.
cleanup() {
    chmod -R u+w "$WORK" 2>/dev/null
    rm -rf "$WORK"
}
make_work cleanup

DSUIT_LEDGER_FIXTURE=$WORK/fx "$FIXTURE_BIN" >"$WORK/fixture.log" 2>&1 || {
    echo "test_ledger_cli: building the fixture failed:" >&2
    cat "$WORK/fixture.log" >&2
    exit 1
}
L=$WORK/fx/ledger
GEN=$WORK/fx/genesis.cbor
[[ -f $L/data.mdb && -f $GEN ]] || {
    echo "test_ledger_cli: fixture incomplete in $WORK/fx" >&2
    exit 1
}

# ---- verify ----------------------------------------------------------------

test_verify_prints_height_tip_and_state_root_of_the_summary() {
    local tip root
    run ledger show --data "$L" --json
    expect_rc 0 || return 1
    tip=$(jq -r .tip <<<"$out")
    root=$(jq -r .state_root <<<"$out")
    run ledger verify --data "$L"
    expect_rc 0 || return 1
    [[ -z $err ]] || fail "stderr: $err" || return 1
    [[ $out == "verified 5 blocks, tip $tip, state root $root" ]] ||
        fail "output: $out"
}

test_verify_with_its_own_genesis_passes() {
    run ledger verify --genesis "$GEN" --data "$L"
    expect_rc 0 || return 1
    [[ $out == "verified 5 blocks, "* ]] || fail "output: $out"
}

test_verify_with_another_chains_genesis_exits_3() {
    for n in v r; do
        "$DSUIT" keygen --alg ed25519 --out $n >/dev/null || return 1
    done
    "$DSUIT" genesis --chain-id other --validator "v=v.pub@h.example:1/2/3" \
        --registrar r.pub --replicas 1 -o other.cbor >/dev/null ||
        fail "genesis" || return 1
    run ledger verify --data "$L" --genesis other.cbor
    expect_rc 3 || return 1
    [[ $err == "dsuit ledger verify: rejected '$L': the ledger is of chain 'test-chain', not of the genesis in 'other.cbor'" ]] ||
        fail "message: $err"
}

test_verify_with_a_genesis_that_is_not_one_exits_3() {
    head -c 64 /dev/urandom >junk.cbor
    run ledger verify --data "$L" --genesis junk.cbor
    expect_rc 3 || return 1
    [[ $err == "dsuit ledger verify: rejected 'junk.cbor': "* ]] ||
        fail "message: $err"
}

test_verify_cannot_open_what_is_not_a_ledger_exits_1() {
    mkdir empty
    : >plain
    run ledger verify --data missing
    expect_rc 1 || return 1
    [[ $err == "dsuit ledger verify: cannot open ledger 'missing': No such file or directory" ]] ||
        fail "missing: $err" || return 1
    run ledger verify --data empty
    expect_rc 1 || return 1
    [[ $err == "dsuit ledger verify: cannot open ledger 'empty': no ledger in this folder (no data.mdb)" ]] ||
        fail "empty: $err" || return 1
    run ledger verify --data plain
    expect_rc 1 || return 1
    [[ $err == "dsuit ledger verify: cannot open ledger 'plain': not a folder" ]] ||
        fail "plain: $err" || return 1
    [[ -z $(ls -A empty) ]] || fail "verify wrote into the empty folder"
}

test_verify_a_damaged_store_file_exits_1_or_3() {
    mkdir bad
    head -c 65536 /dev/urandom >bad/data.mdb
    run ledger verify --data bad
    [[ $rc -eq 1 || $rc -eq 3 ]] || fail "exit $rc: $err" || return 1
    [[ $(line_count "$err") -eq 1 ]] || fail "stderr: $err"
}

test_verify_missing_genesis_file_exits_1() {
    run ledger verify --data "$L" --genesis nope.cbor
    expect_rc 1 || return 1
    [[ $err == "dsuit ledger verify: cannot read 'nope.cbor': No such file or directory" ]] ||
        fail "message: $err"
}

# ---- show ------------------------------------------------------------------

test_show_summary_text_and_json_agree() {
    run ledger show --data "$L"
    expect_rc 0 || return 1
    local text=$out
    run ledger show summary --data "$L" --json
    expect_rc 0 || return 1
    jq -e '.chain_name == "test-chain" and .height == 5 and
           .manifest_log_size == 3 and .tables.blocks == 5 and
           .tables.authors == 1 and .tables.manifests == 3 and
           .tables.devices == 1 and .tables.mlog == 3 and
           (.tip | test("^[0-9a-f]{64}$"))' <<<"$out" >/dev/null ||
        fail "json: $out" || return 1
    grep -qx "tip: $(jq -r .tip <<<"$out")" <<<"$text" ||
        fail "text tip: $text" || return 1
    grep -qx "chain id: $(sha256sum "$GEN" | cut -d' ' -f1)" <<<"$text" ||
        fail "chain id is not SHA-256 of the genesis: $text" || return 1
    grep -qx "height: 5" <<<"$text" || fail "text: $text"
}

test_show_blocks_lists_each_block_with_its_results() {
    run ledger show blocks --data "$L"
    expect_rc 0 || return 1
    [[ $(head -n1 <<<"$out") == "height hash time proposer txs results" ]] ||
        fail "header: $out" || return 1
    [[ $(line_count "$out") -eq 6 ]] || fail "lines: $out" || return 1
    grep -Eqx '1 [0-9a-f]{64} 2023-11-14T22:13:21\.000Z node-a 1 ok' <<<"$out" ||
        fail "block 1: $out" || return 1
    grep -Eqx '5 [0-9a-f]{64} 2023-11-14T22:13:25\.000Z node-a 2 rollback,ok' <<<"$out" ||
        fail "block 5: $out"
}

test_show_blocks_json_matches_the_tip_and_types() {
    local tip
    tip=$("$DSUIT" ledger show --data "$L" --json | jq -r .tip)
    run ledger show blocks --json --data "$L"
    expect_rc 0 || return 1
    jq -e --arg tip "$tip" '
        (.blocks | length) == 5 and .blocks[4].hash == $tip and
        [.blocks[].txs[].type] == ["register-author", "publish", "publish",
                                   "publish", "publish", "register-device"] and
        [.blocks[4].txs[].result_code] == [9, 0] and
        (.blocks | map(.time_ms) | . == sort) and
        .blocks[3].manifest_log_size == 3 and
        (.blocks[0].txs[0].id | test("^[0-9a-f]{64}$"))' <<<"$out" >/dev/null ||
        fail "json: $out"
}

test_show_from_and_to_select_heights() {
    run ledger show blocks --json --from 2 --to 3 --data "$L"
    expect_rc 0 || return 1
    [[ $(jq -c '[.blocks[].height]' <<<"$out") == "[2,3]" ]] ||
        fail "blocks: $out" || return 1
    run ledger show manifests --json --from 3 --data "$L"
    [[ $(jq -c '[.manifests[].sequence_number]' <<<"$out") == "[2,3]" ]] ||
        fail "manifests: $out" || return 1
    run ledger show devices --json --to 4 --data "$L"
    [[ $(jq -c '.devices' <<<"$out") == "[]" ]] || fail "devices: $out" ||
        return 1
    run ledger show blocks --from 9 --data "$L"
    expect_rc 0 || return 1
    [[ $(line_count "$out") -eq 1 ]] || fail "past the tip: $out"
}

test_show_authors_gives_key_name_vendor_status_and_height() {
    run ledger show authors --data "$L" --json
    expect_rc 0 || return 1
    jq -e '(.authors | length) == 1 and
           .authors[0].name == "acme firmware team" and
           .authors[0].vendor_id == "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe" and
           .authors[0].class_ids == [] and .authors[0].status == "active" and
           .authors[0].height == 1 and
           (.authors[0].key_id | test("^[0-9a-f]{64}$"))' <<<"$out" \
        >/dev/null || fail "json: $out" || return 1
    run ledger show authors --data "$L"
    grep -qx "  name: acme firmware team" <<<"$out" || fail "text: $out" ||
        return 1
    grep -qx "  class ids: any" <<<"$out" || fail "text: $out"
}

test_show_manifests_are_in_log_order_with_their_images() {
    local author
    author=$("$DSUIT" ledger show authors --data "$L" --json |
        jq -r '.authors[0].key_id')
    run ledger show manifests --data "$L" --json
    expect_rc 0 || return 1
    jq -e --arg a "$author" '
        [.manifests[].leaf_index] == [0, 1, 2] and
        [.manifests[].sequence_number] == [1, 2, 3] and
        [.manifests[].height] == [2, 3, 4] and
        all(.manifests[]; .author_key_id == $a and
            .class_id == "1492af14-2569-5e48-bf42-9b2d51f2ab45" and
            (.images | length) == 1 and .images[0].size == 300000 and
            .images[0].chunks == 2 and .images[0].chunk_size == 262144) and
        .manifests[1].images[0].digest == ("02" * 32)' <<<"$out" >/dev/null ||
        fail "json: $out" || return 1
    run ledger show manifests --data "$L"
    [[ $(grep -c '^manifest [0-9a-f]\{64\}$' <<<"$out") -eq 3 ]] ||
        fail "text: $out"
}

test_show_devices_gives_uuid_and_key_id() {
    run ledger show devices --data "$L"
    expect_rc 0 || return 1
    [[ $out == "device d0010203-0405-4607-8809-0a0b0c0d0e0f"$'\n'* ]] ||
        fail "text: $out" || return 1
    grep -Eqx '  key id: [0-9a-f]{64}' <<<"$out" || fail "text: $out" ||
        return 1
    grep -qx '  height: 5' <<<"$out" || fail "text: $out"
}

test_show_and_verify_leave_the_folder_unchanged() {
    local before after
    before=$(sha256sum "$L/data.mdb")
    for v in summary blocks authors manifests devices; do
        "$DSUIT" ledger show $v --data "$L" >/dev/null || fail "$v" ||
            return 1
    done
    "$DSUIT" ledger verify --data "$L" >/dev/null || fail "verify" || return 1
    after=$(sha256sum "$L/data.mdb")
    [[ $before == "$after" ]] || fail "data.mdb changed"
}

test_show_works_on_a_read_only_folder() {
    [[ $(id -u) -ne 0 ]] || { echo "    (root: permissions not enforced)"; return 0; }
    cp -r "$L" ro && chmod a-w ro ro/*
    run ledger show --data ro
    expect_rc 0 || return 1
    run ledger verify --data ro
    expect_rc 0
}

# ---- usage -----------------------------------------------------------------

test_usage_errors_exit_2() {
    expect_usage_message ledger "missing verb" ledger || return 1
    expect_usage_message ledger "unknown verb 'check'" ledger check ||
        return 1
    expect_usage_message "ledger verify" "missing option '--data'" \
        ledger verify || return 1
    expect_usage_message "ledger verify" "unexpected argument 'x'" \
        ledger verify --data "$L" x || return 1
    expect_usage_message "ledger show" "missing option '--data'" \
        ledger show blocks || return 1
    expect_usage_message "ledger show" "unknown view 'txs'" ledger show txs \
        --data "$L" || return 1
    expect_usage_message "ledger show" \
        "option '--from' needs a height, not 'x'" \
        ledger show blocks --from x --data "$L" || return 1
    expect_usage_message "ledger show" "'--from' 4 is after '--to' 2" \
        ledger show blocks --from 4 --to 2 --data "$L" || return 1
    expect_usage_message "ledger show" "'--from' and '--to' need a view" \
        ledger show --from 1 --data "$L" || return 1
    expect_usage_message "ledger show" "unexpected argument 'devices'" \
        ledger show blocks devices --data "$L" || return 1
    expect_usage_message "ledger show" "unknown option '--tail'" \
        ledger show --tail --data "$L"
}

test_help_exits_0_on_stdout() {
    expect_help "ledger --help" "ledger verify --help" "ledger show -h" ||
        return 1
    run --help
    grep -Eq '^  ledger +[a-z]' <<<"$out" || fail "not listed: $out"
}

# ---- run -------------------------------------------------------------------

run_all_tests
finish
