#!/usr/bin/env bash
# End-to-end tests of `dsuit keygen`, `dsuit key show` and the program's
# own --help/--version/dispatch (`dsuit demo` has test_demo.sh), run against
# the built binary ($DSUIT_BIN) in a scratch folder that is removed on exit. Each test is a
# function test_<sentence>; `run_test` runs it and counts the result.
# Exit codes checked here are those of docs/EXIT-CODES.md.
set -u

. "$(dirname "$0")/lib.sh" || exit 1
require_dsuit
VECTORS=${DSUIT_VECTORS:-}
if [[ -z $VECTORS || ! -d $VECTORS/suit/keys ]]; then
    echo "test_keygen: DSUIT_VECTORS does not hold suit/keys: '$VECTORS'" >&2
    exit 1
fi
make_work
umask 022

# ---- helpers ---------------------------------------------------------------

file_mode() {
    stat -c %a "$1"
}

# The key id `dsuit key show FILE --json` reports, or nothing.
shown_key_id() {
    "$DSUIT" key show "$1" --json 2>/dev/null |
        sed -n 's/.*"key_id":"\([0-9a-f]*\)".*/\1/p'
}

is_key_id() {
    [[ $1 =~ ^[0-9a-f]{64}$ ]]
}

# new_key ALG NAME: run keygen, check it printed a key id, print the id.
new_key() {
    local id
    id=$("$DSUIT" keygen --alg "$1" --out "$2" 2>&1)
    is_key_id "$id" || fail "keygen --alg $1 --out $2: '$id'" || return 1
    echo "$id"
}

# ---- keygen ----------------------------------------------------------------

test_keygen_writes_private_0600_and_public_0644() {
    local alg
    for alg in es256 ed25519; do
        run keygen --alg "$alg" --out "k-$alg"
        expect_rc 0 || return 1
        [[ -f k-$alg.key && -f k-$alg.pub ]] || fail "$alg: files missing" || return 1
        [[ $(file_mode "k-$alg.key") == 600 ]] ||
            fail "$alg: key mode $(file_mode "k-$alg.key")" || return 1
        [[ $(file_mode "k-$alg.pub") == 644 ]] ||
            fail "$alg: pub mode $(file_mode "k-$alg.pub")" || return 1
    done
}

test_keygen_prints_one_line_with_a_64_hex_key_id() {
    local alg
    for alg in es256 ed25519; do
        run keygen --alg "$alg" --out k
        expect_rc 0 || return 1
        [[ $(line_count "$out") -eq 1 ]] || fail "$alg: output: $out" ||
            return 1
        is_key_id "$out" || fail "$alg: not a key id: '$out'" || return 1
        [[ -z $err ]] || fail "$alg: unexpected stderr: $err" || return 1
        rm -f k.key k.pub
    done
}

test_keygen_leaves_no_temporary_files() {
    run keygen --alg es256 --out k
    expect_rc 0 || return 1
    local files
    # shellcheck disable=SC2012 # plain names, made by this test
    files=$(ls -A | tr '\n' ' ')
    [[ $files == "k.key k.pub " ]] || fail "folder holds: $files"
}

test_keygen_writes_into_a_subfolder() {
    mkdir sub
    run keygen --alg ed25519 --out sub/author
    expect_rc 0 || return 1
    [[ -f sub/author.key && -f sub/author.pub ]] || fail "files missing"
}

test_keygen_makes_a_new_key_each_time() {
    local a b
    a=$(new_key ed25519 a) || return 1
    b=$(new_key ed25519 b) || return 1
    [[ $a != "$b" ]] || fail "two keygens gave the same key id"
}

test_keygen_refuses_to_overwrite_key_without_force() {
    run keygen --alg es256 --out k
    expect_rc 0 || return 1
    cp -p k.key k.key.orig && cp -p k.pub k.pub.orig
    run keygen --alg es256 --out k
    expect_rc 1 || return 1
    [[ $err == "dsuit keygen: cannot write 'k.key': file exists (use --force to replace it)" ]] ||
        fail "message: $err" || return 1
    [[ -z $out ]] || fail "stdout not empty: $out" || return 1
    cmp -s k.key k.key.orig || fail "k.key was changed" || return 1
    cmp -s k.pub k.pub.orig || fail "k.pub was changed"
}

test_keygen_refuses_when_only_the_pub_file_exists() {
    echo "keep me" >k.pub
    run keygen --alg ed25519 --out k
    expect_rc 1 || return 1
    [[ $err == *"cannot write 'k.pub': file exists"* ]] ||
        fail "message: $err" || return 1
    [[ ! -e k.key ]] || fail "k.key was written anyway" || return 1
    [[ $(cat k.pub) == "keep me" ]] || fail "k.pub was changed"
}

test_keygen_force_replaces_both_files() {
    local old new
    old=$(new_key es256 k) || return 1
    cp k.key k.key.orig
    run keygen --alg ed25519 --out k --force
    expect_rc 0 || return 1
    new=$out
    is_key_id "$new" || fail "output: $new" || return 1
    [[ $new != "$old" ]] || fail "key id did not change" || return 1
    ! cmp -s k.key k.key.orig || fail "k.key was not replaced" || return 1
    [[ $(shown_key_id k.key) == "$new" ]] || fail "k.key is not the new key" ||
        return 1
    [[ $(shown_key_id k.pub) == "$new" ]] || fail "k.pub is not the new key" ||
        return 1
    [[ $(file_mode k.key) == 600 ]] || fail "mode after --force"
}

test_keygen_cannot_write_into_a_missing_folder() {
    run keygen --alg es256 --out no/such/dir/k
    expect_rc 1 || return 1
    [[ $err == "dsuit keygen: cannot write 'no/such/dir/k.key': "* ]] ||
        fail "message: $err" || return 1
    [[ $(line_count "$err") -eq 1 ]] || fail "more than one line: $err"
}

# ---- keygen usage errors ----------------------------------------------------

test_keygen_unknown_option_exits_2_with_hint() {
    expect_usage_error keygen keygen --alg es256 --out k --sing || return 1
    [[ $err == "dsuit keygen: unknown option '--sing'"* ]] ||
        fail "message: $err"
}

test_keygen_unknown_short_option_exits_2() {
    expect_usage_error keygen keygen -x --alg es256 --out k || return 1
    [[ $err == "dsuit keygen: unknown option '-x'"* ]] || fail "message: $err"
}

test_keygen_missing_out_exits_2() {
    expect_usage_error keygen keygen --alg es256 || return 1
    [[ $err == *"missing option '--out'"* ]] || fail "message: $err" ||
        return 1
    [[ -z $(ls -A) ]] || fail "files were written"
}

test_keygen_missing_alg_exits_2() {
    expect_usage_error keygen keygen --out k || return 1
    [[ -z $(ls -A) ]] || fail "files were written"
}

test_keygen_bad_alg_exits_2() {
    local alg
    for alg in rsa ES256 es384 ""; do
        expect_usage_error keygen keygen --alg "$alg" --out k ||
            fail "alg '$alg'" || return 1
    done
    [[ -z $(ls -A) ]] || fail "files were written"
}

test_keygen_option_without_its_argument_exits_2() {
    expect_usage_error keygen keygen --alg es256 --out || return 1
    [[ $err == *"option '--out' needs an argument"* ]] || fail "message: $err"
}

test_keygen_flag_given_an_argument_exits_2() {
    expect_usage_error keygen keygen --alg es256 --out k --force=yes ||
        return 1
    [[ $err == *"option '--force' takes no argument"* ]] ||
        fail "message: $err"
}

test_keygen_extra_argument_exits_2() {
    expect_usage_error keygen keygen --alg es256 --out k stray || return 1
    [[ $err == *"unexpected argument 'stray'"* ]] || fail "message: $err"
}

test_keygen_empty_out_exits_2() {
    expect_usage_error keygen keygen --alg es256 --out ""
}

# ---- key show --------------------------------------------------------------

test_key_show_gives_the_same_id_for_key_and_pub() {
    local alg id
    for alg in es256 ed25519; do
        id=$(new_key "$alg" "k-$alg") || return 1
        [[ $(shown_key_id "k-$alg.key") == "$id" ]] ||
            fail "$alg: .key shows '$(shown_key_id "k-$alg.key")', want $id" ||
            return 1
        [[ $(shown_key_id "k-$alg.pub") == "$id" ]] ||
            fail "$alg: .pub shows '$(shown_key_id "k-$alg.pub")', want $id" ||
            return 1
    done
}

test_key_show_prints_alg_kind_and_id_as_text() {
    local id
    id=$(new_key ed25519 k) || return 1
    run key show k.key
    expect_rc 0 || return 1
    [[ $out == "alg: ed25519"$'\n'"private: yes"$'\n'"key id: $id" ]] ||
        fail "output: $out" || return 1
    run key show k.pub
    expect_rc 0 || return 1
    [[ $out == "alg: ed25519"$'\n'"private: no"$'\n'"key id: $id" ]] ||
        fail "output: $out"
}

test_key_show_json_is_one_valid_object() {
    local id
    id=$(new_key es256 k) || return 1
    run key show --json k.key
    expect_rc 0 || return 1
    [[ $out == "{\"alg\":\"es256\",\"private\":true,\"key_id\":\"$id\"}" ]] ||
        fail "output: $out" || return 1
    run key show k.pub --json
    [[ $out == "{\"alg\":\"es256\",\"private\":false,\"key_id\":\"$id\"}" ]] ||
        fail "output: $out" || return 1
    if command -v jq >/dev/null; then
        printf '%s' "$out" | jq -e '.private == false' >/dev/null ||
            fail "jq rejects: $out"
    fi
}

test_key_show_reads_the_spec_public_key_vector() {
    local pub=$VECTORS/suit/keys/spec-es256-p256-public.pem
    local priv=$VECTORS/suit/keys/spec-es256-p256-private.TEST-ONLY.pem
    [[ -f $pub && -f $priv ]] || fail "vector missing: $pub or $priv" ||
        return 1
    run key show "$pub" --json
    expect_rc 0 || return 1
    [[ $out == '{"alg":"es256","private":false,"key_id":"'*'"}' ]] ||
        fail "output: $out" || return 1
    is_key_id "$(shown_key_id "$pub")" || fail "no key id" || return 1
    [[ $(shown_key_id "$priv") == "$(shown_key_id "$pub")" ]] ||
        fail "private and public spec keys show different ids"
}

test_key_show_reads_standard_input() {
    local id
    id=$(new_key ed25519 k) || return 1
    [[ $("$DSUIT" key show - --json <k.pub) == *"\"key_id\":\"$id\""* ]] ||
        fail "stdin not read"
}

# expect_rejected FILE: exit 3, one stderr line naming FILE, no stdout.
expect_rejected() {
    run key show "$1"
    expect_rc 3 || return 1
    [[ -z $out ]] || fail "stdout not empty: $out" || return 1
    [[ $(line_count "$err") -eq 1 ]] || fail "stderr: $err" || return 1
    [[ $err == "dsuit key show: cannot load key '$1': "* ]] ||
        fail "message: $err"
}

test_key_show_rejects_a_garbage_file() {
    head -c 300 /dev/urandom >garbage.bin
    printf '\xff\x00garbage' >garbage2.bin
    expect_rejected garbage.bin || return 1
    expect_rejected garbage2.bin
}

test_key_show_rejects_an_empty_file() {
    : >empty
    expect_rejected empty || return 1
    [[ $err == *"file is empty" ]] || fail "message: $err"
}

test_key_show_rejects_a_broken_pem() {
    "$DSUIT" keygen --alg es256 --out k >/dev/null || return 1
    head -n 3 k.key >cut.pem
    sed 's/[A-Za-z]/A/g' k.key >scrambled.pem
    expect_rejected cut.pem || return 1
    expect_rejected scrambled.pem
}

test_key_show_rejects_a_truncated_cose_key() {
    "$DSUIT" keygen --alg es256 --out k >/dev/null || return 1
    head -c 40 k.pub >cut.pub
    expect_rejected cut.pub
}

test_key_show_rejects_keys_of_other_algorithms() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
        -out p384.pem 2>/dev/null || fail "openssl genpkey P-384" || return 1
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 \
        -out rsa.pem 2>/dev/null || fail "openssl genpkey RSA" || return 1
    expect_rejected p384.pem || return 1
    expect_rejected rsa.pem
}

test_key_show_missing_file_exits_1() {
    run key show does-not-exist.pem
    expect_rc 1 || return 1
    [[ $err == "dsuit key show: cannot read 'does-not-exist.pem': No such file or directory" ]] ||
        fail "message: $err"
}

test_key_show_on_a_folder_exits_1() {
    mkdir d
    run key show d
    expect_rc 1 || return 1
    [[ $(line_count "$err") -eq 1 ]] || fail "stderr: $err"
}

test_key_show_refuses_a_huge_file() {
    head -c $((64 * 1024 + 1)) /dev/zero >huge
    run key show huge
    expect_rc 1 || return 1
    [[ $err == *"file is larger than 65536 bytes" ]] || fail "message: $err"
}

test_key_usage_errors_exit_2() {
    expect_usage_error key key || return 1
    expect_usage_error key key bogus || return 1
    expect_usage_error "key show" key show || return 1
    expect_usage_error "key show" key show a b || return 1
    expect_usage_error "key show" key show --yaml a
}

# ---- openssl cross-checks -------------------------------------------------

test_openssl_accepts_the_private_key_files() {
    local alg
    for alg in es256 ed25519; do
        "$DSUIT" keygen --alg "$alg" --out "k-$alg" >/dev/null ||
            fail "keygen $alg" || return 1
        openssl pkey -in "k-$alg.key" -noout 2>/dev/null ||
            fail "openssl rejects k-$alg.key" || return 1
        head -n1 "k-$alg.key" | grep -qx -- '-----BEGIN PRIVATE KEY-----' ||
            fail "$alg: not PKCS#8" || return 1
    done
}

test_openssl_public_key_has_the_same_key_id() {
    local alg id
    for alg in es256 ed25519; do
        id=$(new_key "$alg" "k-$alg") || return 1
        openssl pkey -in "k-$alg.key" -pubout -out "k-$alg.spki.pem" ||
            fail "openssl -pubout" || return 1
        [[ $(shown_key_id "k-$alg.spki.pem") == "$id" ]] ||
            fail "$alg: openssl's public key has another id" || return 1
    done
}

test_key_show_reads_keys_made_by_openssl() {
    openssl genpkey -algorithm ed25519 -out ed.pem 2>/dev/null ||
        fail "openssl genpkey ed25519" || return 1
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out p256.pem 2>/dev/null || fail "openssl genpkey P-256" || return 1
    [[ $("$DSUIT" key show ed.pem --json) == '{"alg":"ed25519","private":true,'* ]] ||
        fail "ed25519 PEM from openssl" || return 1
    [[ $("$DSUIT" key show p256.pem --json) == '{"alg":"es256","private":true,'* ]] ||
        fail "P-256 PEM from openssl"
}

# ---- the program and its help ---------------------------------------------

test_help_lists_keygen_key_and_demo() {
    local cmd
    run --help
    expect_rc 0 || return 1
    [[ -z $err ]] || fail "stderr: $err" || return 1
    for cmd in keygen key demo; do
        printf '%s\n' "$out" | grep -Eq "^  $cmd +[a-z]" ||
            fail "'$cmd' not listed: $out" || return 1
    done
}

test_every_help_exits_0_on_stdout() {
    expect_help "--help" "-h" "keygen --help" "keygen -h" "key --help" \
        "key show --help" "demo --help" "keygen --alg es256 --help" ||
        return 1
    [[ -z $(ls -A) ]] || fail "--help wrote files"
}

test_no_arguments_prints_usage_to_stderr_and_exits_2() {
    run
    expect_rc 2 || return 1
    [[ -z $out ]] || fail "stdout: $out" || return 1
    [[ $err == usage:* ]] || fail "stderr: $err"
}

test_unknown_command_exits_2_with_hint() {
    run frobnicate
    expect_rc 2 || return 1
    [[ $err == "dsuit: unknown command 'frobnicate'"$'\n'"try 'dsuit --help'" ]] ||
        fail "stderr: $err"
}

test_unknown_top_level_option_exits_2() {
    run --frob
    expect_rc 2 || return 1
    [[ $err == "dsuit: unknown option '--frob'"$'\n'"try 'dsuit --help'" ]] ||
        fail "stderr: $err"
}

test_version_prints_one_line() {
    run --version
    expect_rc 0 || return 1
    [[ $out =~ ^dsuit\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "output: $out"
}

test_help_to_a_full_disk_fails() {
    [[ -w /dev/full ]] || return 0
    "$DSUIT" --help >/dev/full 2>"$WORK/.err"
    rc=$?
    [[ $rc -eq 1 ]] || fail "writing to /dev/full: exit $rc" || return 1
    [[ $(cat "$WORK/.err") == "dsuit: cannot write 'stdout': "* ]] ||
        fail "stderr: $(cat "$WORK/.err")"
}

# ---- run -------------------------------------------------------------------

# Every function named test_* is a test.
run_all_tests
finish
