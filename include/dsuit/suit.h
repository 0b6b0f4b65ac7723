/*
 * dsuit SUIT manifest processor (draft-ietf-suit-manifest-37, algorithm ids of
 * draft-ietf-suit-mti-23, records of draft-ietf-suit-report).
 *
 * Device-safe: no allocation. Every parsed structure points into the
 * caller's envelope buffer, which must outlive it and must not change
 * between authentication and use (REQ.SEC.MFST.CONST of RFC 9124).
 *
 * The flow, each step refusing to look further until the last one passed:
 *
 *   dsuit_suit_envelope_decode()   envelope map, authentication wrapper,
 *                                  where the manifest is. Nothing inside the
 *                                  manifest is interpreted yet.
 *   dsuit_suit_authenticate()      SUIT_Digest == SHA-256(bstr-wrapped
 *                                  manifest) and one COSE block verifies
 *                                  under a trusted key (§6.2, §8.3).
 *   dsuit_suit_manifest_decode()   the manifest, common, components, and
 *                                  severable members against their digests.
 *   dsuit_suit_check()             a dry run over every command sequence:
 *                                  setup rules, known codes, indices, nesting,
 *                                  soft-failure placement, and the shared
 *                                  sequence's vendor/class conditions
 *                                  evaluated against the device profile.
 *   dsuit_suit_process()           runs the chosen procedures (§6) through
 *                                  the platform callbacks.
 *
 * dsuit_suit_parse() does the first three in order.
 */
#ifndef DSUIT_SUIT_H
#define DSUIT_SUIT_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"
#include "dsuit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- capacities (a build may override each) ---------------------------- */

/* Components one manifest may declare. */
#ifndef DSUIT_MAX_COMPONENTS
#define DSUIT_MAX_COMPONENTS 8
#endif
/* Nesting of try-each / run-sequence inside a command sequence. */
#ifndef DSUIT_MAX_NESTING
#define DSUIT_MAX_NESTING 8
#endif
/* Authentication blocks looked at in one envelope. */
#ifndef DSUIT_SUIT_MAX_AUTH
#define DSUIT_SUIT_MAX_AUTH 4
#endif
/* Integrated payloads (text keys) in one envelope. */
#ifndef DSUIT_SUIT_MAX_INTEGRATED
#define DSUIT_SUIT_MAX_INTEGRATED 4
#endif
/* Scratch the authenticator needs for one Sig_structure. */
#define DSUIT_SUIT_AUTH_SCRATCH 160

/* ---- code points (draft-ietf-suit-manifest-37 §11) ------------------- */

#define DSUIT_SUIT_TAG_ENVELOPE 107

/* envelope and manifest keys */
#define DSUIT_SUIT_AUTH_WRAPPER   2
#define DSUIT_SUIT_MANIFEST       3
#define DSUIT_SUIT_VERSION        1
#define DSUIT_SUIT_SEQ_NUMBER     2
#define DSUIT_SUIT_COMMON         3
#define DSUIT_SUIT_REFERENCE_URI  4
#define DSUIT_SUIT_VALIDATE       7
#define DSUIT_SUIT_LOAD           8
#define DSUIT_SUIT_INVOKE         9
#define DSUIT_SUIT_PAYLOAD_FETCH  16
#define DSUIT_SUIT_INSTALL        20
#define DSUIT_SUIT_TEXT           23
/* common */
#define DSUIT_SUIT_COMPONENTS      2
#define DSUIT_SUIT_SHARED_SEQUENCE 4
/* the shared sequence's own section number in records */
#define DSUIT_SUIT_SECTION_SHARED  (-1)

/* conditions */
#define DSUIT_SUIT_COND_VENDOR_ID     1
#define DSUIT_SUIT_COND_CLASS_ID      2
#define DSUIT_SUIT_COND_IMAGE_MATCH   3
#define DSUIT_SUIT_COND_COMPONENT_SLOT 5
#define DSUIT_SUIT_COND_CHECK_CONTENT 6
#define DSUIT_SUIT_COND_ABORT         14
#define DSUIT_SUIT_COND_DEVICE_ID     24
/* directives */
#define DSUIT_SUIT_DIR_SET_COMPONENT_INDEX 12
#define DSUIT_SUIT_DIR_TRY_EACH            15
#define DSUIT_SUIT_DIR_WRITE               18
#define DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS 20
#define DSUIT_SUIT_DIR_FETCH               21
#define DSUIT_SUIT_DIR_COPY                22
#define DSUIT_SUIT_DIR_INVOKE              23
#define DSUIT_SUIT_DIR_SWAP                31
#define DSUIT_SUIT_DIR_RUN_SEQUENCE        32
/* parameters */
#define DSUIT_SUIT_PARAM_VENDOR_ID        1
#define DSUIT_SUIT_PARAM_CLASS_ID         2
#define DSUIT_SUIT_PARAM_IMAGE_DIGEST     3
#define DSUIT_SUIT_PARAM_COMPONENT_SLOT   5
#define DSUIT_SUIT_PARAM_STRICT_ORDER     12
#define DSUIT_SUIT_PARAM_SOFT_FAILURE     13
#define DSUIT_SUIT_PARAM_IMAGE_SIZE       14
#define DSUIT_SUIT_PARAM_CONTENT          18
#define DSUIT_SUIT_PARAM_URI              21
#define DSUIT_SUIT_PARAM_SOURCE_COMPONENT 22
#define DSUIT_SUIT_PARAM_INVOKE_ARGS      23
#define DSUIT_SUIT_PARAM_DEVICE_ID        24
#define DSUIT_SUIT_PARAM_FETCH_ARGUMENTS  25
/* digest algorithms (COSE) */
#define DSUIT_SUIT_DIGEST_SHA256 (-16)
/* reporting policy bits */
#define DSUIT_SUIT_REP_RECORD_SUCCESS  0x1u
#define DSUIT_SUIT_REP_RECORD_FAILURE  0x2u
#define DSUIT_SUIT_REP_SYSINFO_SUCCESS 0x4u
#define DSUIT_SUIT_REP_SYSINFO_FAILURE 0x8u

/* ---- parsed envelope ---------------------------------------------------- */

/* A pointer and length into the caller's envelope buffer. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} dsuit_bytes_t;

/* Index of each severable member in dsuit_suit_envelope_t.members[]. */
typedef enum {
    DSUIT_SUIT_SEV_PAYLOAD_FETCH = 0,
    DSUIT_SUIT_SEV_INSTALL = 1,
    DSUIT_SUIT_SEV_TEXT = 2,
    DSUIT_SUIT_SEV_COUNT = 3
} dsuit_suit_sev_t;

typedef enum {
    DSUIT_SUIT_MEMBER_ABSENT = 0, /* not in the manifest at all */
    DSUIT_SUIT_MEMBER_INLINE,     /* inside the manifest */
    DSUIT_SUIT_MEMBER_VERIFIED,   /* in the envelope, matching its digest */
    DSUIT_SUIT_MEMBER_SEVERED     /* manifest holds a digest; envelope lacks it */
} dsuit_suit_member_state_t;

typedef struct {
    dsuit_suit_member_state_t state;
    dsuit_bytes_t body;   /* the sequence / text map (bstr content), if any */
    dsuit_bytes_t digest; /* the SUIT_Digest bytes in the manifest, if severable */
} dsuit_suit_member_t;

/*
 * A decoded envelope. Fields below "manifest" are valid only after
 * dsuit_suit_manifest_decode() succeeded. Invariants then: version == 1;
 * 1 <= n_components <= DSUIT_MAX_COMPONENTS; every member in state
 * VERIFIED matched its digest.
 */
typedef struct {
    int tagged;
    /* authentication wrapper */
    dsuit_bytes_t digest_item;   /* encoded SUIT_Digest: the detached payload */
    int64_t digest_alg;
    dsuit_bytes_t digest_bytes;
    dsuit_bytes_t auth_blocks[DSUIT_SUIT_MAX_AUTH]; /* encoded COSE messages */
    size_t n_auth;
    dsuit_bytes_t manifest_wrapped; /* the manifest bstr, head included */
    dsuit_bytes_t manifest;         /* its content */
    dsuit_bytes_t envelope_members[DSUIT_SUIT_SEV_COUNT]; /* bstr items */
    dsuit_bytes_t integrated_keys[DSUIT_SUIT_MAX_INTEGRATED];
    dsuit_bytes_t integrated_payloads[DSUIT_SUIT_MAX_INTEGRATED];
    size_t n_integrated;
    /* set by dsuit_suit_authenticate() */
    int authenticated;
    int auth_index;     /* which block verified */
    int64_t auth_alg;   /* its COSE algorithm */
    /* manifest */
    uint64_t version;
    uint64_t seq;
    dsuit_bytes_t reference_uri; /* text, not NUL-terminated; len 0 if none */
    dsuit_bytes_t components[DSUIT_MAX_COMPONENTS]; /* encoded identifiers */
    size_t n_components;
    dsuit_bytes_t shared_seq;
    dsuit_bytes_t validate, load, invoke;
    dsuit_suit_member_t members[DSUIT_SUIT_SEV_COUNT];
    int has_dependencies; /* trust-domains dependencies (not processed) */
} dsuit_suit_envelope_t;

/* Where a failure was found. */
typedef enum {
    DSUIT_SUIT_STAGE_NONE = 0,
    DSUIT_SUIT_STAGE_DECODE,
    DSUIT_SUIT_STAGE_AUTH,
    DSUIT_SUIT_STAGE_SETUP,
    DSUIT_SUIT_STAGE_SHARED,
    DSUIT_SUIT_STAGE_SEVERABLE,
    DSUIT_SUIT_STAGE_COMMAND
} dsuit_suit_stage_t;

/* Details of the first failure: stage, a static reason, and where. */
typedef struct {
    dsuit_suit_stage_t stage;
    const char *reason; /* static string, never NULL after a failure */
    int64_t section;    /* manifest key of the sequence, or 0 */
    size_t offset;      /* byte offset of the command in that sequence */
    int64_t command;    /* command code, or 0 */
} dsuit_suit_error_t;

/**
 * Decode an encoded SUIT_Digest [alg, bytes, * extensions].
 * Errors: DSUIT_E_SUIT_MALFORMED, DSUIT_E_CBOR_TRAILING, CBOR errors.
 */
int dsuit_suit_digest_decode(const uint8_t *buf, size_t len, int64_t *out_alg,
                             dsuit_bytes_t *out_bytes);

/** Lower-case name of a stage: "decode", "auth", "setup",
 * "shared-sequence", "severable", "command"; "" for none. */
const char *dsuit_suit_stage_name(dsuit_suit_stage_t stage);

/** Name of a command code as the draft names it without its "suit-"
 * prefix ("condition-vendor-identifier", "directive-fetch", ...), or NULL. */
const char *dsuit_suit_command_name(int64_t code);

/** Name of a parameter code ("image-digest", ...) or NULL. */
const char *dsuit_suit_parameter_name(int64_t code);

/** Name of a manifest section key ("install", ...) or NULL. */
const char *dsuit_suit_section_name(int64_t key);

/**
 * Decode the envelope: optional tag 107, a map whose keys are unique, the
 * authentication wrapper (key 2) before the manifest (key 3), severable
 * members, integrated payloads. Inside the authentication wrapper only the
 * SUIT_Digest is decoded; COSE blocks are kept as bytes. The manifest is
 * not looked into.
 * @param[out] env   zeroed and filled; points into buf. On
 *                   DSUIT_E_SUIT_NOAUTH it is filled completely all the same
 *                   (inspection tools show unsigned envelopes); on other
 *                   errors its content is unspecified.
 * @param[out] err   details on failure (may be NULL)
 * Errors: DSUIT_E_SUIT_MALFORMED, DSUIT_E_SUIT_NOAUTH (no authentication
 * block), DSUIT_E_LIMIT (more blocks or payloads than the capacities),
 * CBOR decode errors.
 */
int dsuit_suit_envelope_decode(const uint8_t *buf, size_t len,
                               dsuit_suit_envelope_t *env,
                               dsuit_suit_error_t *err);

/**
 * Authenticate a decoded envelope: the SUIT_Digest must be SHA-256 (-16)
 * of env->manifest_wrapped, compared in constant time, and at least one
 * authentication block must verify, with the encoded SUIT_Digest as its
 * detached payload, under one of the trusted keys. Sets env->authenticated.
 * @param[in] keys     trusted keys (public, or symmetric for COSE_Mac0)
 * @param[in] scratch  at least DSUIT_SUIT_AUTH_SCRATCH bytes
 * Errors: DSUIT_E_DIGEST, DSUIT_E_ALG (digest or COSE algorithm not
 * accepted), DSUIT_E_SIGNATURE / DSUIT_E_MAC (no block verifies),
 * DSUIT_E_SUIT_NOAUTH, DSUIT_E_INVAL.
 */
int dsuit_suit_authenticate(dsuit_suit_envelope_t *env,
                            const dsuit_key_t *keys, size_t n_keys,
                            uint8_t *scratch, size_t scratch_cap,
                            dsuit_suit_error_t *err);

/* Flags for dsuit_suit_manifest_decode(). */
#define DSUIT_SUIT_ALLOW_UNAUTHENTICATED 0x1u /* for inspection tools only */

/**
 * Decode the manifest of an authenticated envelope (refused otherwise,
 * unless flags has DSUIT_SUIT_ALLOW_UNAUTHENTICATED): version 1, sequence
 * number, common (components, shared sequence), reference-uri, validate,
 * load, invoke, and the severable members, each either inline, or a
 * SUIT_Digest that the envelope's copy must match (computed over the
 * bstr-wrapped member), or severed. Unknown manifest keys are refused.
 * Errors: DSUIT_E_SUIT_MALFORMED, DSUIT_E_SUIT_VERSION, DSUIT_E_DIGEST
 * (a present member does not match), DSUIT_E_LIMIT (too many components),
 * DSUIT_E_SIGNATURE (not authenticated), CBOR decode errors.
 */
int dsuit_suit_manifest_decode(dsuit_suit_envelope_t *env, unsigned flags,
                               dsuit_suit_error_t *err);

/**
 * Decode, authenticate and decode the manifest, in that order.
 * Errors: as the three functions.
 */
int dsuit_suit_parse(const uint8_t *buf, size_t len, const dsuit_key_t *keys,
                     size_t n_keys, dsuit_suit_envelope_t *env,
                     dsuit_suit_error_t *err);

/* ---- device profile, check, process ------------------------------------ */

/* What the device is. Empty identifiers (len 0) are not known, and a
 * condition that needs one fails. */
typedef struct {
    dsuit_bytes_t vendor_id; /* 16-byte UUID */
    dsuit_bytes_t class_id;  /* 16-byte UUID */
    dsuit_bytes_t device_id; /* 16-byte UUID */
    int has_installed_seq;
    uint64_t installed_seq; /* rollback floor: a manifest must exceed it */
    size_t max_components;  /* components the device has; 0 = DSUIT_MAX_COMPONENTS */
} dsuit_suit_profile_t;

/**
 * The dry run (no directive executes, no platform call is made): rollback,
 * component count, and for every command sequence present: known command
 * and parameter codes with arguments of the right type, component indices
 * in range, try-each with at least two sequences, nesting within
 * DSUIT_MAX_NESTING, soft-failure set only inside try-each or
 * run-sequence, with more than one component each sequence starting with
 * set-component-index; the shared sequence holds only shared commands,
 * vendor and class conditions, and those conditions pass for the profile.
 * Errors: DSUIT_E_ROLLBACK, DSUIT_E_LIMIT (components), DSUIT_E_SUIT_RULE,
 * DSUIT_E_SUIT_UNSUPPORTED, DSUIT_E_SUIT_COMPONENT,
 * DSUIT_E_SUIT_CONDITION (profile mismatch), DSUIT_E_NESTING,
 * DSUIT_E_SUIT_MALFORMED, DSUIT_E_INVAL (manifest not decoded).
 */
int dsuit_suit_check(const dsuit_suit_envelope_t *env,
                     const dsuit_suit_profile_t *profile,
                     dsuit_suit_error_t *err);

/* Parameters for one component, as the processor holds them. The
 * bit for each parameter code is set in `set` when present. */
typedef struct {
    uint32_t set; /* 1u << DSUIT_SUIT_PARAM_... */
    dsuit_bytes_t vendor_id, class_id, device_id;
    dsuit_bytes_t image_digest; /* encoded SUIT_Digest */
    dsuit_bytes_t content, uri, invoke_args, fetch_args;
    uint64_t image_size, component_slot, source_component;
} dsuit_suit_params_t;

/* The component a platform callback acts on. */
typedef struct {
    size_t index;
    dsuit_bytes_t id; /* encoded SUIT_Component_Identifier */
    const dsuit_suit_params_t *params;
} dsuit_suit_component_t;

/* One record (draft-ietf-suit-report §3) handed to the report callback. */
typedef struct {
    int64_t section;   /* manifest key of the sequence (-1: shared) */
    size_t offset;     /* byte offset of the command in that sequence */
    size_t component;  /* component index */
    int64_t command;   /* command code */
    uint64_t policy;   /* the command's reporting policy */
    int result;        /* DSUIT_OK or the error */
    const dsuit_suit_params_t *params;
} dsuit_suit_record_t;

/*
 * The platform: how a device acts on its components. Each callback gets
 * `arg` as registered. A callback returns DSUIT_OK, or an error that stops
 * the procedure; fetch may return DSUIT_E_AGAIN ("not yet": the download
 * goes on in the background or across a reboot; process again later and it
 * resumes, since every command sequence may be re-run). NULL callbacks make
 * their command fail with DSUIT_E_SUIT_UNSUPPORTED.
 *
 *   digest   SHA-256 of the component's current content (image-match)
 *   read     read len bytes from offset into buf (check-content)
 *   slot     the slot the component now occupies (component-slot)
 *   fetch    fetch params->uri into the component
 *   write    write data into the component (write directive)
 *   copy     copy the source component into dst
 *   swap     swap dst and the source component
 *   invoke   invoke the component with params->invoke_args
 *   report   a record of a command, when its policy asks (may be NULL)
 */
typedef struct {
    void *arg;
    int (*digest)(void *arg, const dsuit_suit_component_t *c, size_t size,
                  int has_size, uint8_t out[DSUIT_SHA256_LEN]);
    int (*read)(void *arg, const dsuit_suit_component_t *c, size_t offset,
                uint8_t *buf, size_t len, size_t *out_len);
    int (*slot)(void *arg, const dsuit_suit_component_t *c, uint64_t *out);
    int (*fetch)(void *arg, const dsuit_suit_component_t *c);
    int (*write)(void *arg, const dsuit_suit_component_t *c,
                 const uint8_t *data, size_t len);
    int (*copy)(void *arg, const dsuit_suit_component_t *dst,
                const dsuit_suit_component_t *src);
    int (*swap)(void *arg, const dsuit_suit_component_t *dst,
                const dsuit_suit_component_t *src);
    int (*invoke)(void *arg, const dsuit_suit_component_t *c);
    void (*report)(void *arg, const dsuit_suit_record_t *rec);
} dsuit_suit_platform_t;

/**
 * What a manifest says about its components: structurally checks the
 * shared sequence, then runs it dry with every condition assumed to hold,
 * and returns the parameters each component ends up with (vendor-id,
 * class-id, image-digest, image-size, ...). For servers and tools that
 * must know what a manifest claims without being a device of that class;
 * a device uses dsuit_suit_check() instead.
 * @param[out] out  DSUIT_MAX_COMPONENTS entries; entries past
 *                  env->n_components are zeroed. Pointers point into the
 *                  envelope's buffer.
 * Errors: as the shared-sequence part of dsuit_suit_check().
 */
int dsuit_suit_describe(const dsuit_suit_envelope_t *env,
                        dsuit_suit_params_t out[DSUIT_MAX_COMPONENTS],
                        dsuit_suit_error_t *err);

/* Procedures for dsuit_suit_process(). */
#define DSUIT_SUIT_RUN_PAYLOAD_FETCH 0x01u
#define DSUIT_SUIT_RUN_INSTALL       0x02u
#define DSUIT_SUIT_RUN_VALIDATE      0x04u
#define DSUIT_SUIT_RUN_LOAD          0x08u
#define DSUIT_SUIT_RUN_INVOKE        0x10u
/* The update procedure (§8.4.7 goals 1-3) and the invocation procedure
 * (goals 3-5). */
#define DSUIT_SUIT_UPDATE                                                      \
    (DSUIT_SUIT_RUN_PAYLOAD_FETCH | DSUIT_SUIT_RUN_INSTALL |                   \
     DSUIT_SUIT_RUN_VALIDATE)
#define DSUIT_SUIT_BOOT                                                        \
    (DSUIT_SUIT_RUN_VALIDATE | DSUIT_SUIT_RUN_LOAD | DSUIT_SUIT_RUN_INVOKE)

/*
 * Processor state: parameters for every component and the interpreter's
 * own. Caller-owned (about 1.6 KiB with the default capacities); holds
 * nothing outside itself, so there is no _free.
 */
typedef struct {
    dsuit_suit_params_t params[DSUIT_MAX_COMPONENTS];
    int strict_order;
} dsuit_suit_proc_t;

/**
 * Check (as dsuit_suit_check()), then run the chosen procedures: for each
 * chosen sequence present, in the order payload-fetch, install, validate,
 * load, invoke, the shared sequence and then that sequence (§6.4).
 * Parameters start cleared. A severed member that is chosen fails with
 * DSUIT_E_SUIT_SEVERED; a member absent from the manifest is skipped.
 * An envelope that was not authenticated (env->authenticated == 0, e.g.
 * decoded with DSUIT_SUIT_ALLOW_UNAUTHENTICATED) is refused with
 * DSUIT_E_SIGNATURE before anything runs.
 * Errors: those of dsuit_suit_check(); DSUIT_E_SUIT_CONDITION (a condition
 * failed outside soft failure), DSUIT_E_SUIT_PARAM, DSUIT_E_SUIT_DIRECTIVE,
 * DSUIT_E_SUIT_SEVERED, DSUIT_E_AGAIN and any error from a callback.
 */
int dsuit_suit_process(dsuit_suit_proc_t *proc,
                       const dsuit_suit_envelope_t *env,
                       const dsuit_suit_profile_t *profile,
                       const dsuit_suit_platform_t *platform,
                       unsigned procedures, dsuit_suit_error_t *err);

/* ---- reports (draft-ietf-suit-report) ---------------------------------- */

/* SUIT_Report_Reasons */
#define DSUIT_SUIT_REASON_OK                    0
#define DSUIT_SUIT_REASON_CBOR_PARSE            1
#define DSUIT_SUIT_REASON_COSE_UNSUPPORTED      2
#define DSUIT_SUIT_REASON_ALG_UNSUPPORTED       3
#define DSUIT_SUIT_REASON_UNAUTHORISED          4
#define DSUIT_SUIT_REASON_COMMAND_UNSUPPORTED   5
#define DSUIT_SUIT_REASON_COMPONENT_UNSUPPORTED 6
#define DSUIT_SUIT_REASON_COMPONENT_UNAUTHORISED 7
#define DSUIT_SUIT_REASON_PARAMETER_UNSUPPORTED 8
#define DSUIT_SUIT_REASON_SEVERING_UNSUPPORTED  9
#define DSUIT_SUIT_REASON_CONDITION_FAILED      10
#define DSUIT_SUIT_REASON_OPERATION_FAILED      11

/** The SUIT_Report_Reasons value for a dsuit error code. */
int dsuit_suit_report_reason(int err);

#ifndef DSUIT_SUIT_MAX_RECORDS
#define DSUIT_SUIT_MAX_RECORDS 16
#endif

/* Collects records while processing; then encodes a SUIT_Report.
 * Caller-owned, no _free. Records beyond the capacity are counted in
 * `dropped` and left out. */
typedef struct {
    dsuit_suit_record_t records[DSUIT_SUIT_MAX_RECORDS];
    size_t n_records;
    size_t dropped;
} dsuit_suit_report_t;

/** Start an empty report. */
void dsuit_suit_report_init(dsuit_suit_report_t *r);

/** A report callback for dsuit_suit_platform_t.report: arg must be a
 * dsuit_suit_report_t. The record is copied without its params pointer,
 * which would not stay valid once processing goes on. */
void dsuit_suit_report_add(void *arg, const dsuit_suit_record_t *rec);

/**
 * Encode a SUIT_Report: {99: [reference-uri, SUIT_Digest], 2: nonce (if
 * given), 3: [records], 4: true | {5: code, 6: record, 7: reason}}.
 * @param[in] env     the manifest reported on (its digest and URI)
 * @param[in] result  DSUIT_OK or the error that ended processing
 * @param[in] where   the failure's details (ignored on success)
 * Errors: DSUIT_E_LIMIT (*out_len = size needed), DSUIT_E_INVAL.
 */
int dsuit_suit_report_encode(const dsuit_suit_report_t *r,
                             const dsuit_suit_envelope_t *env,
                             const uint8_t *nonce, size_t nonce_len,
                             int result, const dsuit_suit_error_t *where,
                             uint8_t *out, size_t out_cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_SUIT_H */
