/*
 * dsuit error codes.
 *
 * Every dsuit function that can fail returns an int: DSUIT_OK (0) or one of
 * the negative codes below. The list is the single source of the enum, the
 * symbolic names and the messages. A code's number never changes once
 * released and is never reused for another meaning; new codes are appended.
 *
 * Device-safe: this header and src/common/error.c use no allocation.
 */
#ifndef DSUIT_ERROR_H
#define DSUIT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, code, message) */
#define DSUIT_ERRORS(X)                                                        \
    X(OK, 0, "success")                                                        \
    X(E_NOMEM, -1, "out of memory")                                            \
    X(E_LIMIT, -2, "input exceeds a compiled-in limit")                        \
    X(E_SIGNATURE, -3, "signature does not verify")                            \
    X(E_INVAL, -4, "invalid argument")                                         \
    X(E_TRUNCATED, -5, "input is truncated")                                   \
    X(E_CBOR_RESERVED, -6, "reserved CBOR additional information (28-30)")     \
    X(E_CBOR_INDEFINITE, -7, "indefinite-length CBOR item not supported")      \
    X(E_CBOR_NONMINIMAL, -8, "CBOR head is not minimally encoded")             \
    X(E_CBOR_DUPKEY, -9, "duplicate CBOR map key")                             \
    X(E_CBOR_TRAILING, -10, "trailing bytes after the CBOR item")              \
    X(E_CBOR_TYPE, -11, "CBOR item has an unexpected type")                    \
    X(E_CBOR_LENGTH, -12, "CBOR length runs past the end of input")            \
    X(E_NESTING, -13, "nesting exceeds the limit")                             \
    X(E_CBOR_MALFORMED, -14, "malformed CBOR")                                 \
    X(E_RANGE, -15, "integer out of range")                                    \
    X(E_ALG, -16, "algorithm not supported or not allowed")                    \
    X(E_KEY, -17, "key is malformed or of the wrong type")                     \
    X(E_MAC, -18, "MAC does not verify")                                       \
    X(E_CRYPTO, -19, "crypto backend failure")                                 \
    X(E_UNSUPPORTED, -20, "not supported by this build")                       \
    X(E_COSE, -21, "malformed COSE structure")                                 \
    X(E_IO, -22, "input/output error")                                         \
    X(E_NOTFOUND, -23, "not found")                                            \
    X(E_EXISTS, -24, "already exists")                                         \
    X(E_CBOR_ORDER, -25, "CBOR map keys are not in deterministic order")      \
    X(E_SUIT_MALFORMED, -26, "malformed SUIT envelope or manifest")            \
    X(E_SUIT_NOAUTH, -27, "no authentication block in the envelope")          \
    X(E_DIGEST, -28, "digest does not match")                                  \
    X(E_SUIT_VERSION, -29, "unsupported SUIT manifest version")                \
    X(E_ROLLBACK, -30, "sequence number is not newer than the installed one") \
    X(E_SUIT_SEVERED, -31, "severable member is severed and not available")   \
    X(E_SUIT_UNSUPPORTED, -32, "unsupported SUIT command or parameter")        \
    X(E_SUIT_CONDITION, -33, "a SUIT condition failed")                        \
    X(E_SUIT_COMPONENT, -34, "component index out of range")                   \
    X(E_SUIT_PARAM, -35, "a required SUIT parameter is not set")               \
    X(E_SUIT_RULE, -36, "manifest breaks a SUIT processing rule")              \
    X(E_AGAIN, -37, "not finished yet: try again later")                       \
    X(E_SUIT_DIRECTIVE, -38, "a SUIT directive failed")                       \
    X(E_FULL, -39, "storage is full (raise the map size)")                   \
    X(E_STORE, -40, "storage failure")                                         \
    X(E_REJECTED, -41, "block rejected")                                      \
    X(E_NOTLEADER, -42, "this node is not the leader")                        \
    X(E_STALE, -43, "the certified ledger state is too old")

typedef enum {
#define DSUIT__ERR_ENUM(name, code, msg) DSUIT_##name = (code),
    DSUIT_ERRORS(DSUIT__ERR_ENUM)
#undef DSUIT__ERR_ENUM
} dsuit_err_t;

/**
 * Message for an error code, e.g. "signature does not verify".
 * @param[in] err  a dsuit_err_t value (or any int)
 * @return a static string; "unknown error" for a code not in the list.
 */
const char *dsuit_strerror(int err);

/**
 * Symbolic name for an error code, e.g. "DSUIT_E_SIGNATURE".
 * @return a static string; "DSUIT_E_UNKNOWN" for a code not in the list.
 */
const char *dsuit_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_ERROR_H */
