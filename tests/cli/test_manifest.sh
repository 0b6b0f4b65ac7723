#!/usr/bin/env bash
# End-to-end tests of `dsuit manifest` (create, sign, sever, verify, check,
# show), run against the built binary ($DSUIT_BIN) in a scratch folder that
# is removed on exit, with keys made by `dsuit keygen` and the official
# vectors ($DSUIT_VECTORS/suit). Each test is a function test_<sentence>;
# `run_test` runs it and counts the result. Exit codes: docs/EXIT-CODES.md.
set -u

. "$(dirname "$0")/lib.sh" || exit 1
require_dsuit
VECTORS=${DSUIT_VECTORS:-}
M37=$VECTORS/suit/manifest-37
SPEC_PUB=$VECTORS/suit/keys/spec-es256-p256-public.pem
SPEC_PRIV=$VECTORS/suit/keys/spec-es256-p256-private.TEST-ONLY.pem
if [[ ! -f $M37/example0.cbor || ! -f $SPEC_PUB || ! -f $SPEC_PRIV ]]; then
    echo "test_manifest: DSUIT_VECTORS does not hold suit/manifest-37 and" \
        "suit/keys: '$VECTORS'" >&2
    exit 1
fi
if command -v jq >/dev/null; then
    json_ok() { jq -e . >/dev/null; }
else
    json_ok() { python3 -m json.tool >/dev/null; }
fi

VENDOR=fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
CLASS=1492af14-2569-5e48-bf42-9b2d51f2ab45

make_work
umask 022

# Shared inputs, made once.
head -c 34768 /dev/urandom >"$WORK/image.bin"
"$DSUIT" keygen --alg es256 --out "$WORK/es" >/dev/null || exit 1
"$DSUIT" keygen --alg ed25519 --out "$WORK/ed" >/dev/null || exit 1
"$DSUIT" keygen --alg es256 --out "$WORK/other" >/dev/null || exit 1
IMG=$WORK/image.bin
ES=$WORK/es
ED=$WORK/ed
OTHER=$WORK/other

# ---- helpers ---------------------------------------------------------------

# create ARGS...: a manifest for image.bin with the draft's vendor and class.
create() {
    "$DSUIT" manifest create --vendor-domain arm.com --class suit \
        --image "$IMG" "$@"
}

signed_vectors() {
    local f
    for f in "$M37"/example*.cbor; do
        [[ $f == *-unsigned.cbor ]] || echo "$f"
    done
}

# ---- create, verify, check round trips ------------------------------------

test_create_sign_verify_check_round_trip_with_es256_and_ed25519() {
    local k alg
    local -A want_id=([es256]=-7 [esp256]=-9 [eddsa]=-8 [ed25519]=-19)
    for k in es:es256 es:esp256 ed:eddsa ed:ed25519; do
        alg=${k#*:}
        k=$WORK/${k%%:*}
        run manifest create --vendor-domain arm.com --class suit --seq 4 \
            --image "$IMG" --uri http://example.com/a.bin --invoke \
            --key "$k.key" --alg "$alg" -o m.suit
        expect_rc 0 || return 1
        [[ $out =~ ^[0-9a-f]{64}$ ]] || fail "$alg: digest line: $out" ||
            return 1
        run manifest verify --key "$k.pub" m.suit
        expect_rc 0 || return 1
        [[ $out == "authentic: m.suit"* ]] || fail "$alg: $out" || return 1
        [[ $out == *"sequence number: 4"* ]] || fail "$alg: $out" || return 1
        run manifest check --key "$k.pub" --vendor-id $VENDOR \
            --class-id $CLASS --installed-seq 3 m.suit
        expect_rc 0 || return 1
        [[ $out == *"accepted: m.suit" ]] || fail "$alg: $out" || return 1
        run manifest show --json m.suit
        [[ $(printf '%s' "$out" | jq -r '.authentication[0].alg_id') == \
            "${want_id[$alg]}" ]] || fail "$alg: $out" || return 1
    done
}

test_create_reports_the_algorithm_chosen() {
    create --seq 1 --key "$ED.key" --alg ed25519 -o m.suit >/dev/null ||
        fail "create" || return 1
    run manifest show --json m.suit
    [[ $(printf '%s' "$out" | jq -r '.authentication[0].alg_id') == -19 ]] ||
        fail "$out"
}

test_create_is_byte_identical_when_run_twice() {
    local k
    for k in "$ES" "$ED"; do
        create --seq 9 --uri http://x/y --invoke --text-description hi \
            --vendor-name ACME --sever install,text --key "$k.key" \
            -o a.suit >/dev/null || fail "create a" || return 1
        create --seq 9 --uri http://x/y --invoke --text-description hi \
            --vendor-name ACME --sever install,text --key "$k.key" \
            -o b.suit >/dev/null || fail "create b" || return 1
        cmp -s a.suit b.suit || fail "$k: outputs differ" || return 1
    done
}

test_create_derives_the_drafts_uuids_from_arm_com_and_suit() {
    create --seq 0 -o m.suit >/dev/null 2>&1 || fail "create" || return 1
    run manifest show --json m.suit
    [[ $(printf '%s' "$out" | jq -r '.components[0]["vendor-id"]') == \
        "$VENDOR" ]] || fail "vendor: $out" || return 1
    [[ $(printf '%s' "$out" | jq -r '.components[0]["class-id"]') == \
        "$CLASS" ]] || fail "class: $out"
}

test_create_with_example0_parameters_gives_example0s_digest() {
    local d
    # The image's digest and size are the draft's sample values, so feed
    # them through --from (a real file cannot hash to them).
    cat >desc.json <<EOF
{"sequence-number": 0, "invoke": 0,
 "components": [{"id": "0x00", "vendor-domain": "arm.com", "class": "suit",
   "digest": "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210",
   "size": 34768}]}
EOF
    run manifest create --from desc.json --key "$SPEC_PRIV" -o m.suit
    expect_rc 0 || return 1
    d=$("$DSUIT" manifest show --json "$M37/example0.cbor" |
        jq -r .manifest_digest.bytes)
    [[ $out == "$d" ]] || fail "digest $out, example0 has $d" || return 1
    run manifest verify --key "$SPEC_PUB" m.suit
    expect_rc 0
}

test_create_without_key_warns_and_verify_rejects_it() {
    run manifest create --vendor-domain arm.com --class suit --seq 1 \
        --image "$IMG" -o u.suit
    expect_rc 0 || return 1
    [[ $err == "dsuit manifest create: warning: 'u.suit' is not signed"* ]] ||
        fail "warning: $err" || return 1
    run manifest verify --key "$ES.pub" u.suit
    expect_rc 3 || return 1
    [[ $err == "dsuit manifest verify: rejected 'u.suit': auth: "* ]] ||
        fail "message: $err"
}

test_sign_adds_signatures_that_verify_under_each_key() {
    create --seq 2 -o u.suit >/dev/null 2>&1 || fail "create" || return 1
    run manifest sign --key "$ES.key" u.suit -o s1.suit
    expect_rc 0 || return 1
    run manifest sign --key "$ED.key" --kid s1.suit -o s1.suit
    expect_rc 0 || return 1
    run manifest verify --key "$ED.pub" s1.suit
    expect_rc 0 || return 1
    [[ $out == *"block 1 of 2 (EdDSA)"* ]] || fail "$out" || return 1
    run manifest verify --key "$ES.pub" s1.suit
    expect_rc 0 || return 1
    [[ $out == *"block 0 of 2 (ES256)"* ]] || fail "$out" || return 1
    run manifest show --json s1.suit
    [[ $(printf '%s' "$out" | jq -r '.authentication[1].kid') =~ \
        ^[0-9a-f]{64}$ ]] || fail "no kid: $out"
}

test_sign_refuses_the_same_key_twice() {
    create --seq 2 --key "$ES.key" -o s.suit >/dev/null || return 1
    run manifest sign --key "$ES.key" s.suit -o t.suit
    expect_rc 3 || return 1
    [[ $err == *"already signed"* ]] || fail "$err" || return 1
    [[ ! -e t.suit ]] || fail "t.suit written"
}

test_sign_refuses_a_manifest_whose_digest_does_not_match() {
    create --seq 2 -o u.suit >/dev/null 2>&1 || return 1
    # The last byte is the invoke/validate policy inside the manifest.
    local n
    n=$(stat -c %s u.suit)
    printf '\x0e' | dd of=u.suit bs=1 seek=$((n - 1)) conv=notrunc 2>/dev/null
    run manifest sign --key "$ES.key" u.suit -o s.suit
    expect_rc 3 || return 1
    [[ $err == *"digest does not match"* ]] || fail "$err"
}

test_sign_of_an_official_example_keeps_the_spec_signature() {
    run manifest sign --key "$ES.key" "$M37/example1.cbor" -o s.suit
    expect_rc 0 || return 1
    run manifest verify --key "$SPEC_PUB" s.suit
    expect_rc 0 || return 1
    run manifest verify --key "$ES.pub" s.suit
    expect_rc 0
}

# ---- official vectors -------------------------------------------------------

test_verify_accepts_every_signed_official_example() {
    local f
    for f in $(signed_vectors); do
        run manifest verify --key "$SPEC_PUB" "$f"
        expect_rc 0 || fail "$f" || return 1
        [[ $out == "authentic: $f"* ]] || fail "$f: $out" || return 1
    done
}

test_verify_rejects_every_unsigned_official_example() {
    local f n=0
    for f in "$M37"/*-unsigned.cbor; do
        run manifest verify --key "$SPEC_PUB" "$f"
        expect_rc 3 || fail "$f" || return 1
        [[ $err == "dsuit manifest verify: rejected '$f': auth: "* ]] ||
            fail "message: $err" || return 1
        [[ -z $out ]] || fail "stdout: $out" || return 1
        n=$((n + 1))
    done
    [[ $n -ge 6 ]] || fail "only $n unsigned vectors found"
}

test_verify_with_another_key_names_the_failed_check() {
    run manifest verify --key "$OTHER.pub" "$M37/example0.cbor"
    expect_rc 3 || return 1
    [[ $err == "dsuit manifest verify: rejected '$M37/example0.cbor': auth: no signature verifies with a trusted key" ]] ||
        fail "message: $err"
}

test_verify_accepts_when_any_of_several_keys_fits() {
    run manifest verify --key "$OTHER.pub" --key "$SPEC_PUB" \
        "$M37/example5.cbor"
    expect_rc 0 || return 1
    [[ $out == *"($SPEC_PUB)"* ]] || fail "$out"
}

test_check_accepts_every_official_example_for_the_drafts_device() {
    local f
    for f in $(signed_vectors); do
        run manifest check --key "$SPEC_PUB" --vendor-id $VENDOR \
            --class-id $CLASS "$f"
        expect_rc 0 || fail "$f" || return 1
        run manifest check --key "$SPEC_PUB" --vendor-domain arm.com \
            --class suit "$f"
        expect_rc 0 || fail "$f (derived ids)" || return 1
    done
}

test_check_rejects_a_device_of_another_class_in_the_shared_sequence() {
    local f
    for f in $(signed_vectors); do
        run manifest check --key "$SPEC_PUB" --vendor-id $VENDOR \
            --class-id 00000000-0000-5000-8000-000000000000 "$f"
        expect_rc 3 || fail "$f" || return 1
        [[ $err == "dsuit manifest check: rejected '$f': shared-sequence: "* ]] ||
            fail "message: $err" || return 1
    done
}

test_check_rejects_example3_as_a_rollback_after_5() {
    run manifest check --key "$SPEC_PUB" --vendor-id $VENDOR \
        --class-id $CLASS --installed-seq 5 "$M37/example3.cbor"
    expect_rc 3 || return 1
    [[ $err == *"sequence number is not newer"* ]] || fail "$err" || return 1
    run manifest check --key "$SPEC_PUB" --vendor-id $VENDOR \
        --class-id $CLASS --installed-seq 2 "$M37/example3.cbor"
    expect_rc 0
}

test_check_rejects_too_many_components() {
    run manifest check --key "$SPEC_PUB" --vendor-id $VENDOR \
        --class-id $CLASS --max-components 2 "$M37/example4.cbor"
    expect_rc 3
}

test_verify_rejects_a_flipped_byte_in_the_manifest() {
    local f=$M37/example0.cbor n i
    n=$(stat -c %s "$f")
    # Bytes past the authentication wrapper lie in the manifest.
    for i in 120 150 200 $((n - 1)); do
        cp "$f" x.cbor
        printf '%02x' $(($(xxd -s "$i" -l 1 -p x.cbor | sed 's/^/0x/') ^ 1)) |
            xxd -r -p | dd of=x.cbor bs=1 seek="$i" conv=notrunc 2>/dev/null
        if cmp -s x.cbor "$f"; then
            fail "byte $i not flipped"
            return 1
        fi
        run manifest verify --key "$SPEC_PUB" x.cbor
        expect_rc 3 || fail "byte $i" || return 1
        [[ $(line_count "$err") -eq 1 ]] || fail "stderr: $err" || return 1
    done
}

test_verify_rejects_garbage_and_truncation() {
    head -c 100 /dev/urandom >g.cbor
    head -c 100 "$M37/example0.cbor" >t.cbor
    : >e.cbor
    local f
    for f in g.cbor t.cbor e.cbor; do
        run manifest verify --key "$SPEC_PUB" "$f"
        expect_rc 3 || fail "$f" || return 1
        [[ $err == "dsuit manifest verify: rejected '$f': "* ]] ||
            fail "$err" || return 1
    done
}

# ---- show --------------------------------------------------------------------

test_show_works_on_every_official_vector_and_json_parses() {
    local f n=0
    for f in "$M37"/*.cbor "$VECTORS"/suit/trust-domains/*.cbor \
        "$VECTORS"/suit/firmware-encryption/suit-manifest-*.cbor; do
        run manifest show "$f"
        expect_rc 0 || fail "$f" || return 1
        [[ $out == "manifest: $f (not authenticated)"* ]] ||
            fail "$f: $out" || return 1
        run manifest show --json "$f"
        expect_rc 0 || fail "$f --json" || return 1
        printf '%s' "$out" | json_ok || fail "$f: JSON does not parse" ||
            return 1
        n=$((n + 1))
    done
    [[ $n -ge 17 ]] || fail "only $n vectors"
}

test_show_lists_components_commands_and_blocks() {
    run manifest show "$M37/example5.cbor"
    expect_rc 0 || return 1
    local want
    # Command names with or without their condition-/directive- prefix, as
    # dsuit_suit_command_name() gives them.
    for want in "sequence number: 5" "component 0: 0x00" "component 1: 0x01" \
        "vendor-id: $VENDOR" "image-size: 76834" \
        "(directive-)?set-component-index 1" \
        "(condition-)?image-match  policy 15" "(directive-)?fetch  policy 2" \
        "block 0: COSE_Sign1 ES256" "install: inline"; do
        [[ $out =~ $want ]] || fail "missing '$want' in: $out" || return 1
    done
    run manifest show --json "$M37/example5.cbor"
    [[ $(printf '%s' "$out" | jq -r '.components[1]["image-size"]') == 76834 ]] ||
        fail "json: $out" || return 1
    [[ $(printf '%s' "$out" | jq -r '.authenticated') == false ]] ||
        fail "authenticated"
}

test_show_reads_text_of_example2() {
    run manifest show --json "$M37/example2.cbor"
    expect_rc 0 || return 1
    [[ $(printf '%s' "$out" | jq -r '.text["en-US"].components[0]["vendor-domain"]') == arm.com ]] ||
        fail "$out" || return 1
    [[ $(printf '%s' "$out" | jq -r '.members.text') == verified ]] ||
        fail "members"
}

test_show_works_on_an_unsigned_envelope() {
    create --seq 1 -o u.suit >/dev/null 2>&1 || return 1
    run manifest show u.suit
    expect_rc 0 || return 1
    [[ $out == *"authentication blocks: 0"* ]] || fail "$out"
}

# ---- sever -------------------------------------------------------------------

test_sever_then_verify_reports_the_members_severed() {
    create --seq 3 --uri http://x/y --text-description hi --sever install,text \
        --key "$ES.key" -o m.suit >/dev/null || return 1
    run manifest verify --key "$ES.pub" m.suit
    [[ $out == *"install: verified"* && $out == *"text: verified"* ]] ||
        fail "before: $out" || return 1
    run manifest sever m.suit -o t.suit --member text
    expect_rc 0 || return 1
    [[ $out == "severed: text" ]] || fail "$out" || return 1
    run manifest verify --key "$ES.pub" t.suit
    expect_rc 0 || return 1
    [[ $out == *"install: verified"* && $out == *"text: severed"* ]] ||
        fail "after: $out" || return 1
    run manifest sever m.suit -o a.suit
    [[ $out == "severed: install text" ]] || fail "$out" || return 1
    run manifest verify --key "$ES.pub" a.suit
    [[ $out == *"install: severed"* && $out == *"text: severed"* ]] ||
        fail "all: $out" || return 1
    [[ $(stat -c %s a.suit) -lt $(stat -c %s m.suit) ]] || fail "not smaller"
}

test_sever_of_example2_gives_example2_severed() {
    run manifest sever "$M37/example2.cbor" -o s.cbor
    expect_rc 0 || return 1
    cmp -s s.cbor "$M37/example2-severed.cbor" || fail "bytes differ"
}

test_sever_refuses_an_inline_member() {
    create --seq 3 --uri http://x/y --key "$ES.key" -o m.suit >/dev/null ||
        return 1
    run manifest sever m.suit -o t.suit --member install
    expect_rc 3 || return 1
    [[ $err == "dsuit manifest sever: cannot sever 'm.suit': "* ]] ||
        fail "$err" || return 1
    [[ ! -e t.suit ]] || fail "written"
}

# ---- --from ------------------------------------------------------------------

test_create_from_json_with_three_components() {
    cp "$IMG" app.bin
    mkdir sub
    cat >sub/desc.json <<'EOF'
{
  "sequence-number": 12,
  "description": "three parts",
  "reference-uri": "https://example.com/full.suit",
  "invoke": 2,
  "severable": ["install", "text"],
  "components": [
    {"id": "0x02", "vendor-domain": "arm.com", "class": "suit",
     "image": "../app.bin", "uri": "http://example.com/a.bin",
     "text": {"vendor-name": "Arm", "version": "1.0"}},
    {"id": "usr/bin", "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe",
     "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
     "digest": "0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff",
     "size": 76834, "uri": "http://example.com/b.bin"},
    {"id": "0x01", "vendor-domain": "arm.com", "class": "suit",
     "digest": "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210",
     "size": 10, "text": {"description": "boot"}}
  ]
}
EOF
    run manifest create --from sub/desc.json --key "$ED.key" -o m.suit
    expect_rc 0 || return 1
    run manifest check --key "$ED.pub" --vendor-domain arm.com --class suit m.suit
    expect_rc 0 || return 1
    run manifest show --json m.suit
    [[ $(printf '%s' "$out" | jq -r '.components[1].id') == usr/bin ]] ||
        fail "id: $out" || return 1
    [[ $(printf '%s' "$out" | jq -r '.sequences.invoke[0].component') == 2 ]] ||
        fail "invoke: $out" || return 1
    [[ $(printf '%s' "$out" | jq -r '.members.install') == verified ]] ||
        fail "members: $out"
}

test_create_from_json_rejects_bad_descriptions() {
    local body
    for body in 'not json' '[]' '{"sequence-number": 1}' \
        '{"sequence-number": -1, "components": [{"digest": "00", "size": 1}]}' \
        '{"sequence-number": 1, "components": [], "x": 1}' \
        '{"sequence-number": 1, "components": [{"vendor-domain": "a", "class": "b", "digest": "00", "size": 1}]}' \
        '{"sequence-number": 1, "components": [{"vendor-domain": "a", "class": "b", "size": 1}]}' \
        '{"sequence-number": 1, "components": [{"vendor-id": "nope", "class": "b", "digest": "0011223344556677889900112233445566778899001122334455667788990011", "size": 1}]}' \
        '{"sequence-number": 1, "components": [{"vendor-domain": "a", "class": "b", "digest": "0011223344556677889900112233445566778899001122334455667788990011", "size": 1, "colour": 1}]}' \
        '{"sequence-number": 1, "invoke": 3, "components": [{"vendor-domain": "a", "class": "b", "digest": "0011223344556677889900112233445566778899001122334455667788990011", "size": 1}]}'; do
        printf '%s' "$body" >d.json
        run manifest create --from d.json -o m.suit
        expect_rc 3 || fail "accepted: $body" || return 1
        [[ $err == "dsuit manifest create: cannot use description 'd.json': "* ]] ||
            fail "message: $err" || return 1
        [[ ! -e m.suit ]] || fail "written for: $body" || return 1
    done
}

# ---- usage errors --------------------------------------------------------------

test_unknown_option_exits_2_for_every_verb() {
    local v
    for v in create sign sever verify check show; do
        expect_usage_error "manifest $v" manifest "$v" --sing x ||
            fail "$v" || return 1
        [[ $err == "dsuit manifest $v: unknown option '--sing'"* ]] ||
            fail "$v: $err" || return 1
    done
}

test_unknown_verb_and_missing_verb_exit_2() {
    expect_usage_error manifest manifest frobnicate || return 1
    expect_usage_error manifest manifest
}

test_create_usage_errors_exit_2_and_write_nothing() {
    expect_usage_error "manifest create" manifest create --vendor-domain a \
        --class b --image "$IMG" -o m.suit || return 1
    expect_usage_error "manifest create" manifest create --vendor-domain a \
        --class b --seq x1 --image "$IMG" -o m.suit || return 1
    expect_usage_error "manifest create" manifest create --vendor-domain a \
        --class b --seq 1 --image "$IMG" || return 1
    expect_usage_error "manifest create" manifest create --class b --seq 1 \
        --image "$IMG" -o m.suit || return 1
    expect_usage_error "manifest create" manifest create --vendor-id nope \
        --class b --seq 1 --image "$IMG" -o m.suit || return 1
    expect_usage_error "manifest create" manifest create --vendor-domain a \
        --class b --seq 1 --image "$IMG" --component 'a//b' -o m.suit ||
        return 1
    expect_usage_error "manifest create" manifest create --vendor-domain a \
        --class b --seq 1 --image "$IMG" --sever install -o m.suit || return 1
    expect_usage_error "manifest create" manifest create --vendor-domain a \
        --class b --seq 1 --image "$IMG" --alg rsa -o m.suit || return 1
    expect_usage_error "manifest create" manifest create --from d.json \
        --seq 1 -o m.suit || return 1
    [[ ! -e m.suit ]] || fail "m.suit written"
}

test_check_usage_errors_exit_2() {
    expect_usage_error "manifest check" manifest check --key "$SPEC_PUB" \
        --class-id $CLASS "$M37/example0.cbor" || return 1
    expect_usage_error "manifest check" manifest check --key "$SPEC_PUB" \
        --vendor-id $VENDOR --class-id 1234 "$M37/example0.cbor" || return 1
    expect_usage_error "manifest check" manifest check --key "$SPEC_PUB" \
        --vendor-id $VENDOR --class-id $CLASS --installed-seq -1 \
        "$M37/example0.cbor" || return 1
    expect_usage_error "manifest check" manifest check --vendor-id $VENDOR \
        --class-id $CLASS "$M37/example0.cbor"
}

test_missing_files_exit_1() {
    run manifest verify --key "$SPEC_PUB" no-such.suit
    expect_rc 1 || return 1
    [[ $err == "dsuit manifest verify: cannot read 'no-such.suit': "* ]] ||
        fail "$err" || return 1
    run manifest create --vendor-domain a --class b --seq 1 \
        --image no-such.bin -o m.suit
    expect_rc 1 || return 1
    run manifest create --vendor-domain a --class b --seq 1 --image "$IMG" \
        -o no/such/dir/m.suit
    expect_rc 1
}

test_signing_with_a_public_key_is_rejected() {
    run manifest create --vendor-domain a --class b --seq 1 --image "$IMG" \
        --key "$ES.pub" -o m.suit
    expect_rc 3 || return 1
    [[ $err == *"not a private key"* ]] || fail "$err"
}

test_help_of_every_verb_exits_0_on_stdout() {
    local v
    for v in create sign sever verify check show; do
        run manifest "$v" --help
        expect_rc 0 || return 1
        [[ $out == "usage: dsuit manifest $v"* ]] || fail "$v: $out" ||
            return 1
    done
    run manifest --help
    expect_rc 0
}

test_create_overwrites_its_output() {
    echo old >m.suit
    run manifest create --vendor-domain a --class b --seq 1 --image "$IMG" \
        --key "$ES.key" -o m.suit
    expect_rc 0 || return 1
    [[ $(head -c 3 m.suit) != old ]] || fail "not replaced"
}

run_all_tests
finish
