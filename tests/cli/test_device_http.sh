#!/usr/bin/env bash
# End-to-end tests of the device resources over HTTP (docs/protocols.md,
# "HTTP: devices"; `dsuit device token`, docs/cli/dsuit-device.md) on a
# real 4-node devnet on 127.0.0.1, with curl as an independent client:
# a PSK device and a registered (raw public key) device fetch the latest
# manifest (ETag, If-None-Match -> 304), the image whole and by Range
# (206 with Content-Range, suffix and open ranges, 416 past the end, several
# ranges answered whole), byte-identical to the published image; a report
# shows up in GET /v1/devices. Refused with 401: no token, a replayed token,
# a token for another node or another path, a wrong key; with 403: another
# vendor's firmware.
#
# The tests run in order and build on each other. Every wait is bounded; the
# EXIT trap stops the devnet with `dsuit devnet down` (then SIGKILLs any
# pid of its devnet.pids that is still that devnet's node).
set -u

. "$(dirname "$0")/lib.sh" || exit 1
require_dsuit
for tool in curl jq xxd sha256sum cmp timeout; do
    require_tool "$tool"
done

cleanup() {
    devnet_stop "$WORK/D"
    rm -rf "$WORK"
}
make_work cleanup
trap 'exit 1' INT TERM
TEST_OWN_DIR=0
RUN_TIMEOUT=60

D=$WORK/D
URLS=()
head -c 300000 /dev/urandom >"$WORK/fw.bin"
DIGEST=$(sha256sum "$WORK/fw.bin" | cut -c1-64)
IMG=/v1/device/fw/img/$DIGEST
PSK=$(printf 'a-device-psk-of-some-length' | xxd -p | tr -d '\n')
"$DSUIT" keygen --alg es256 --out "$WORK/author" >/dev/null || exit 1
"$DSUIT" keygen --alg es256 --out "$WORK/dev" >/dev/null || exit 1

# token NODE PATH [ARGS...]: a PSK token of device d-1 (or ARGS' device).
token() {
    local node=$1 path=$2
    shift 2
    if [[ $# -eq 0 ]]; then
        set -- --psk-id d-1 --psk-key "$PSK"
    fi
    "$DSUIT" device token --node-name "$node" "$@" "$path"
}

# get URL TOKEN [CURL ARGS...]: sets code, body (file b.out) and hdr.
get() {
    local url=$1 tok=$2
    shift 2
    hdr=$(curl -s -m 20 -D - -o b.out -H "Authorization: DSUIT $tok" "$@" \
        "$url" | tr -d '\r')
    code=$(head -n1 <<<"$hdr" | awk '{print $2}')
}

test_device_http_1_devnet_publish_and_credentials() {
    local i
    run devnet up --nodes 4 --dir "$D" --detach --heartbeat-ms 300
    expect_rc 0 || return 1
    run devnet status --dir "$D" --json
    mapfile -t URLS < <(jq -r '.nodes[].http' <<<"$out")
    [[ ${#URLS[@]} -eq 4 ]] || fail "nodes: $out" || return 1
    run author register --node "${URLS[0]}" --genesis "$D/genesis.cbor" \
        --registrar-key "$D/registrar-1.key" --author-pub "$WORK/author.pub" \
        --name Acme --vendor-domain acme.example --class sensor --timeout 30
    expect_rc 0 || return 1
    run publish --node "${URLS[1]}" --key "$WORK/author.key" \
        --image "$WORK/fw.bin" --seq 1 --vendor-domain acme.example \
        --class sensor --timeout 30
    expect_rc 0 || return 1
    for i in 1 2 3 4; do
        run device provision --data "$D/node-$i" --id d-1 \
            --vendor-domain acme.example --class sensor --key "$PSK"
        expect_rc 0 || return 1
        run device provision --data "$D/node-$i" --id other-vendor \
            --vendor-domain other.example --class sensor --key "$PSK"
        expect_rc 0 || return 1
    done
    run device register --node "${URLS[0]}" --genesis "$D/genesis.cbor" \
        --key "$WORK/author.key" --device-pub "$WORK/dev.pub" \
        --vendor-domain acme.example --class sensor --timeout 30
    expect_rc 0 || return 1
    [[ $out == "device id: "* ]] || fail "stdout: $out"
}

test_device_http_2_the_image_whole_and_by_range() {
    local size=300000
    get "${URLS[2]}$IMG" "$(token node-3 "$IMG")"
    [[ $code == 200 ]] || fail "whole: $hdr" || return 1
    cmp -s b.out "$WORK/fw.bin" || fail "the image differs" || return 1
    grep -qi '^accept-ranges: bytes' <<<"$hdr" || fail "no Accept-Ranges" ||
        return 1

    get "${URLS[2]}$IMG" "$(token node-3 "$IMG")" -r 1000-1999
    [[ $code == 206 ]] || fail "range: $hdr" || return 1
    grep -qi "^content-range: bytes 1000-1999/$size" <<<"$hdr" ||
        fail "content-range: $hdr" || return 1
    cmp -s b.out <(tail -c +1001 "$WORK/fw.bin" | head -c 1000) ||
        fail "range bytes" || return 1

    get "${URLS[2]}$IMG" "$(token node-3 "$IMG")" -H "Range: bytes=-500"
    [[ $code == 206 ]] || fail "suffix: $hdr" || return 1
    cmp -s b.out <(tail -c 500 "$WORK/fw.bin") || fail "suffix bytes" ||
        return 1

    get "${URLS[2]}$IMG" "$(token node-3 "$IMG")" -r 299000-
    [[ $code == 206 ]] || fail "open: $hdr" || return 1
    cmp -s b.out <(tail -c 1000 "$WORK/fw.bin") || fail "open bytes" ||
        return 1

    get "${URLS[2]}$IMG" "$(token node-3 "$IMG")" -r "$size-"
    [[ $code == 416 ]] || fail "past the end: $hdr" || return 1
    grep -qi "^content-range: bytes \*/$size" <<<"$hdr" ||
        fail "416 content-range: $hdr" || return 1

    # Several ranges: answered whole (allowed by RFC 9110).
    get "${URLS[2]}$IMG" "$(token node-3 "$IMG")" -r 0-9,20-29
    [[ $code == 200 ]] || fail "multi: $hdr" || return 1
    cmp -s b.out "$WORK/fw.bin" || fail "multi bytes"
}

test_device_http_3_a_resumed_download_by_ranges_is_the_image() {
    local off=0 step=65536 part=0
    rm -f whole.bin
    while [[ $off -lt 300000 ]] && [[ $part -lt 10 ]]; do
        get "${URLS[3]}$IMG" "$(token node-4 "$IMG")" -r "$off-$((off + step - 1))"
        [[ $code == 206 ]] || fail "part $part: $hdr" || return 1
        cat b.out >>whole.bin
        off=$((off + step))
        part=$((part + 1))
    done
    cmp -s whole.bin "$WORK/fw.bin" || fail "reassembled image differs"
}

test_device_http_4_latest_with_etag_and_304() {
    local vendor class path tok etag
    "$DSUIT" manifest create --image "$WORK/fw.bin" --key "$WORK/author.key" \
        --seq 1 --vendor-domain acme.example --class sensor -o m.suit \
        >/dev/null || return 1
    run manifest show --json m.suit
    vendor=$(jq -r '.components[0]["vendor-id"]' <<<"$out")
    class=$(jq -r '.components[0]["class-id"]' <<<"$out")
    path=/v1/device/fw/$vendor/$class/latest
    get "${URLS[0]}$path" "$(token node-1 "$path")"
    [[ $code == 200 ]] || fail "latest: $hdr" || return 1
    etag=$(grep -i '^etag:' <<<"$hdr" | awk '{print $2}')
    [[ $etag == '"1"' ]] || fail "etag: $hdr" || return 1
    # The very envelope the operator API serves.
    curl -s -m 10 -o op.cbor "${URLS[0]}/v1/manifests/latest?vendor=$vendor&class=$class"
    cmp -s b.out op.cbor || fail "latest differs from /v1/manifests/latest" ||
        return 1
    get "${URLS[0]}$path" "$(token node-1 "$path")" -H "If-None-Match: \"1\""
    [[ $code == 304 ]] || fail "If-None-Match: $hdr" || return 1
    # Another vendor's device: 403.
    get "${URLS[0]}$path" "$(token node-1 "$path" --psk-id other-vendor \
        --psk-key "$PSK")"
    [[ $code == 403 ]] || fail "other vendor: $hdr" || return 1
    LATEST=$path
}

test_device_http_5_refusals_are_401() {
    local tok
    hdr=$(curl -s -m 10 -D - -o b.out "${URLS[0]}$IMG" | tr -d '\r')
    [[ $(head -n1 <<<"$hdr") == *" 401 "* ]] || fail "no token: $hdr" ||
        return 1
    tok=$(token node-1 "$IMG")
    get "${URLS[0]}$IMG" "$tok"
    [[ $code == 200 ]] || fail "first use: $hdr" || return 1
    get "${URLS[0]}$IMG" "$tok"
    [[ $code == 401 ]] || fail "replay: $hdr" || return 1
    grep -q "used already" b.out || fail "replay message: $(cat b.out)" ||
        return 1
    get "${URLS[0]}$IMG" "$(token node-2 "$IMG")"
    [[ $code == 401 ]] || fail "other node: $hdr" || return 1
    get "${URLS[0]}$IMG" "$(token node-1 "$LATEST")"
    [[ $code == 401 ]] || fail "other path: $hdr" || return 1
    get "${URLS[0]}$IMG" "$(token node-1 "$IMG" --psk-id d-1 \
        --psk-key 00112233445566778899aabbccddeeff)"
    [[ $code == 401 ]] || fail "wrong key: $hdr" || return 1
    get "${URLS[0]}$IMG" "$(token node-1 "$IMG" --psk-id nobody \
        --psk-key "$PSK")"
    [[ $code == 401 ]] || fail "unknown id: $hdr" || return 1
    get "${URLS[0]}$IMG" "garbage!"
    [[ $code == 401 ]] || fail "garbage: $hdr"
}

test_device_http_6_a_registered_device_key_and_a_report() {
    local rep
    get "${URLS[1]}$IMG" "$(token node-2 "$IMG" --key "$WORK/dev.key")"
    [[ $code == 200 ]] || fail "rpk token: $hdr" || return 1
    cmp -s b.out "$WORK/fw.bin" || fail "rpk image differs" || return 1
    # A key that is not registered.
    "$DSUIT" keygen --alg es256 --out rogue >/dev/null || return 1
    get "${URLS[1]}$IMG" "$(token node-2 "$IMG" --key rogue.key)"
    [[ $code == 401 ]] || fail "rogue key: $hdr" || return 1
    # {1: 1, 3: "ok"}
    printf '\xa2\x01\x01\x03\x62ok' >rep.cbor
    get "${URLS[1]}/v1/device/fw/report" \
        "$(token node-2 /v1/device/fw/report --method POST --key "$WORK/dev.key")" \
        -X POST --data-binary @rep.cbor -H 'Content-Type: application/cbor'
    [[ $code == 204 ]] || fail "report: $hdr $(cat b.out)" || return 1
    rep=$(curl -s -m 10 "${URLS[1]}/v1/devices")
    jq -e '.devices[] | select(.device | startswith("rpk:")) |
        select(.installed_sequence == 1 and .last_result == "ok")' \
        <<<"$rep" >/dev/null || fail "devices: $rep"
}

run_all_tests
finish
