/*
 * libFuzzer harness for node_report_decode() (src/node/node_int.h): the
 * report a device POSTs to /fw/report (docs/protocols.md).
 *
 * A report that decodes must point inside the input, keep to the limits
 * (result 1..NODE_REPORT_RESULT_MAX bytes, digest 32 bytes, SUIT_Report at
 * most NODE_REPORT_SUIT_MAX), and, being deterministic CBOR with its keys
 * in order, re-encode with the dsuit encoder to exactly the input bytes.
 * Nothing may crash or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/error.h"
#include "node/node_int.h"

#include "fuzz.h"

static int inside(const uint8_t *buf, size_t len, const void *p, size_t n)
{
    const uint8_t *q = p;
    return q != NULL && q >= buf && n <= len && (size_t)(q - buf) <= len - n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t enc[2 * NODE_REPORT_SUIT_MAX];
    dsuit_cbor_enc_t e;
    node_report_t r;
    size_t len = 0;

    if (node_report_decode(data, size, &r) != DSUIT_OK)
        return 0;
    CHECK(r.result_len >= 1 && r.result_len <= NODE_REPORT_RESULT_MAX);
    CHECK(inside(data, size, r.result, r.result_len));
    if (r.digest != NULL)
        CHECK(inside(data, size, r.digest, 32));
    if (r.report != NULL) {
        CHECK(r.report_len <= NODE_REPORT_SUIT_MAX);
        CHECK(r.report_len == 0 || inside(data, size, r.report, r.report_len));
    } else {
        CHECK(r.report_len == 0);
    }

    dsuit_cbor_enc_init(&e, enc, sizeof enc);
    dsuit_cbor_put_map(&e, 2 + (r.digest != NULL) + (r.report != NULL));
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_uint(&e, r.seq);
    if (r.digest != NULL) {
        dsuit_cbor_put_uint(&e, 2);
        dsuit_cbor_put_bstr(&e, r.digest, 32);
    }
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_tstr(&e, r.result, r.result_len);
    if (r.report != NULL) {
        dsuit_cbor_put_uint(&e, 4);
        dsuit_cbor_put_bstr(&e, r.report, r.report_len);
    }
    CHECK(dsuit_cbor_enc_finish(&e, &len) == DSUIT_OK);
    CHECK(len == size && memcmp(enc, data, size) == 0);
    return 0;
}
