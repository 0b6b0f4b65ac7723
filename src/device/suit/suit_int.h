/*
 * Functions shared by the files of the SUIT module (envelope.c, names.c,
 * check.c, process.c, report.c). Not part of the public API.
 */
#ifndef DSUIT_SUIT_INT_H
#define DSUIT_SUIT_INT_H

#include "dsuit/suit.h"

/** Decode an encoded SUIT_Digest [alg, bytes, * ext].
 * Errors: DSUIT_E_SUIT_MALFORMED, DSUIT_E_CBOR_TRAILING, CBOR errors. */
int dsuit__suit_digest_decode(const uint8_t *buf, size_t len, int64_t *out_alg,
                              dsuit_bytes_t *out_bytes);

/** DSUIT_OK if SHA-256(data) equals want (constant time); DSUIT_E_ALG for
 * another algorithm, DSUIT_E_DIGEST on mismatch or wrong length. */
int dsuit__suit_digest_match(int64_t alg, dsuit_bytes_t want,
                             const uint8_t *data, size_t len);

/** Fill *err (if not NULL) with stage and reason; return rc. */
int dsuit__suit_fail(dsuit_suit_error_t *err, int rc, dsuit_suit_stage_t stage,
                     const char *reason);

/*
 * Interpreter state for one run over a manifest (process.c), shared with
 * the check pass, which runs the shared sequence in dry mode.
 * Invariants: 1 <= n_sel <= DSUIT_MAX_COMPONENTS and every sel[i] <
 * env->n_components; params points at DSUIT_MAX_COMPONENTS entries.
 */
typedef struct {
    const dsuit_suit_envelope_t *env;
    const dsuit_suit_profile_t *profile;
    const dsuit_suit_platform_t *platform; /* may be NULL when dry */
    dsuit_suit_params_t *params;
    int dry;
    int assume; /* dry, and identity conditions hold too (describe) */
    dsuit_suit_error_t *err;
    int64_t section;
    uint8_t sel[DSUIT_MAX_COMPONENTS];
    size_t n_sel;
    int soft;      /* soft-failure in the current sequence */
    int last_soft; /* soft-failure in force when the last condition failed */
    int strict_order;
} dsuit__suit_run_t;

/** Set up a run; clears params. */
void dsuit__suit_run_init(dsuit__suit_run_t *r, const dsuit_suit_envelope_t *env,
                          const dsuit_suit_profile_t *profile,
                          const dsuit_suit_platform_t *platform,
                          dsuit_suit_params_t *params, int dry,
                          dsuit_suit_error_t *err);

/** Run one top-level sequence (section key, or DSUIT_SUIT_SECTION_SHARED). */
int dsuit__suit_run_section(dsuit__suit_run_t *r, int64_t section,
                            dsuit_bytes_t seq);

#endif /* DSUIT_SUIT_INT_H */
