/*
 * SUIT reports (draft-ietf-suit-report-18 §3-§4): collect the records the
 * processor hands to the platform's report callback, then encode one
 * SUIT_Report for the device to send as its status report.
 *
 *   SUIT_Report = {
 *     2: nonce (bstr, optional)
 *     3: [* SUIT_Record]
 *     4: true / {5: result-code (int), 6: SUIT_Record, 7: reason (uint)}
 *     99: [reference-uri (tstr), SUIT_Digest of the manifest]
 *   }                          keys in canonical order: 2 3 4 99
 *   SUIT_Record = [manifest-id [* uint], section (int), offset (uint),
 *                  component (uint), properties {}]
 *
 * dsuit is a single-manifest processor (no dependencies), so manifest-id
 * is always the empty list, which names the root manifest. The result code
 * is the dsuit error code (draft: "an internal error code"); the reason
 * is the draft's coarse SUIT_Report_Reasons value.
 *
 * Device-safe: no allocation; the report collector is caller-owned.
 */
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/suit.h"

#define KEY_NONCE         2
#define KEY_RECORDS       3
#define KEY_RESULT        4
#define KEY_RESULT_CODE   5
#define KEY_RESULT_RECORD 6
#define KEY_RESULT_REASON 7
#define KEY_REFERENCE     99

void dsuit_suit_report_init(dsuit_suit_report_t *r)
{
    memset(r, 0, sizeof *r);
}

void dsuit_suit_report_add(void *arg, const dsuit_suit_record_t *rec)
{
    dsuit_suit_report_t *r = arg;
    if (r == NULL || rec == NULL)
        return;
    if (r->n_records == DSUIT_SUIT_MAX_RECORDS) {
        r->dropped++;
        return;
    }
    r->records[r->n_records] = *rec;
    r->records[r->n_records].params = NULL; /* not valid after the call */
    r->n_records++;
}

int dsuit_suit_report_reason(int err)
{
    switch (err) {
    case DSUIT_OK:
        return DSUIT_SUIT_REASON_OK;
    case DSUIT_E_TRUNCATED:
    case DSUIT_E_CBOR_RESERVED:
    case DSUIT_E_CBOR_INDEFINITE:
    case DSUIT_E_CBOR_NONMINIMAL:
    case DSUIT_E_CBOR_DUPKEY:
    case DSUIT_E_CBOR_TRAILING:
    case DSUIT_E_CBOR_TYPE:
    case DSUIT_E_CBOR_LENGTH:
    case DSUIT_E_NESTING:
    case DSUIT_E_CBOR_MALFORMED:
    case DSUIT_E_CBOR_ORDER:
    case DSUIT_E_SUIT_MALFORMED:
    case DSUIT_E_SUIT_VERSION:
        return DSUIT_SUIT_REASON_CBOR_PARSE;
    case DSUIT_E_COSE:
        return DSUIT_SUIT_REASON_COSE_UNSUPPORTED;
    case DSUIT_E_ALG:
        return DSUIT_SUIT_REASON_ALG_UNSUPPORTED;
    case DSUIT_E_SIGNATURE:
    case DSUIT_E_MAC:
    case DSUIT_E_SUIT_NOAUTH:
    case DSUIT_E_KEY:
        return DSUIT_SUIT_REASON_UNAUTHORISED;
    case DSUIT_E_SUIT_UNSUPPORTED:
    case DSUIT_E_SUIT_RULE:
        return DSUIT_SUIT_REASON_COMMAND_UNSUPPORTED;
    case DSUIT_E_SUIT_COMPONENT:
    case DSUIT_E_LIMIT:
        return DSUIT_SUIT_REASON_COMPONENT_UNSUPPORTED;
    case DSUIT_E_SUIT_PARAM:
        return DSUIT_SUIT_REASON_PARAMETER_UNSUPPORTED;
    case DSUIT_E_SUIT_SEVERED:
        return DSUIT_SUIT_REASON_SEVERING_UNSUPPORTED;
    case DSUIT_E_SUIT_CONDITION:
    case DSUIT_E_ROLLBACK:
    case DSUIT_E_DIGEST:
        return DSUIT_SUIT_REASON_CONDITION_FAILED;
    default:
        return DSUIT_SUIT_REASON_OPERATION_FAILED;
    }
}

static void put_record(dsuit_cbor_enc_t *e, int64_t section, size_t offset,
                       size_t component)
{
    dsuit_cbor_put_array(e, 5);
    dsuit_cbor_put_array(e, 0); /* the root manifest */
    dsuit_cbor_put_int(e, section);
    dsuit_cbor_put_uint(e, offset);
    dsuit_cbor_put_uint(e, component);
    dsuit_cbor_put_map(e, 0);
}

int dsuit_suit_report_encode(const dsuit_suit_report_t *r,
                             const dsuit_suit_envelope_t *env,
                             const uint8_t *nonce, size_t nonce_len,
                             int result, const dsuit_suit_error_t *where,
                             uint8_t *out, size_t out_cap, size_t *out_len)
{
    dsuit_cbor_enc_t e;

    if (r == NULL || env == NULL || out_len == NULL ||
        (nonce == NULL && nonce_len > 0) || env->digest_item.ptr == NULL)
        return DSUIT_E_INVAL;

    dsuit_cbor_enc_init(&e, out, out_cap);
    dsuit_cbor_put_map(&e, nonce != NULL ? 4 : 3);
    if (nonce != NULL) {
        dsuit_cbor_put_uint(&e, KEY_NONCE);
        dsuit_cbor_put_bstr(&e, nonce, nonce_len);
    }
    dsuit_cbor_put_uint(&e, KEY_RECORDS);
    dsuit_cbor_put_array(&e, r->n_records);
    for (size_t i = 0; i < r->n_records; i++)
        put_record(&e, r->records[i].section, r->records[i].offset,
                   r->records[i].component);
    dsuit_cbor_put_uint(&e, KEY_RESULT);
    if (result == DSUIT_OK) {
        dsuit_cbor_put_bool(&e, 1);
    } else {
        dsuit_cbor_put_map(&e, 3);
        dsuit_cbor_put_uint(&e, KEY_RESULT_CODE);
        dsuit_cbor_put_int(&e, result);
        dsuit_cbor_put_uint(&e, KEY_RESULT_RECORD);
        put_record(&e, where ? where->section : 0, where ? where->offset : 0,
                   0);
        dsuit_cbor_put_uint(&e, KEY_RESULT_REASON);
        dsuit_cbor_put_uint(&e, (uint64_t)dsuit_suit_report_reason(result));
    }
    dsuit_cbor_put_uint(&e, KEY_REFERENCE);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_tstr(&e, (const char *)env->reference_uri.ptr,
                        env->reference_uri.len);
    dsuit_cbor_put_raw(&e, env->digest_item.ptr, env->digest_item.len);
    return dsuit_cbor_enc_finish(&e, out_len);
}
