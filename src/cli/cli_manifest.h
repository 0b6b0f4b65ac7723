/*
 * Building and signing a SUIT envelope from `dsuit manifest create`'s
 * options, shared by `manifest create` and `publish --key` so that both make
 * the same bytes from the same options (src/device/suit/build.c does the
 * encoding). Also the pieces the other manifest verbs share with create:
 * signing keys (`sign`), vendor and class identifiers (`check`) and lists of
 * severable members (`sever`).
 *
 * Like the helpers of cli.h, every function that can fail prints its own
 * error line naming `cmd` and returns a DSUIT_EXIT_* code. Not device code:
 * allocates.
 */
#ifndef DSUIT_CLI_MANIFEST_H
#define DSUIT_CLI_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "cli/cli_uuid.h"
#include "dsuit/crypto.h"
#include "dsuit/suit.h"
#include "dsuit/suit_build.h"

/* Largest envelope or description read. */
#define CLI_MANIFEST_FILE_MAX (1024 * 1024)

/*
 * getopt_long codes of create's options (`dsuit manifest create --help`).
 * A command taking some of them uses these codes in its own option table
 * and hands them to cli_manifest_create_opt(); its other options are
 * numbered from CLI_MANIFEST_OPT_END.
 */
enum {
    CLI_MANIFEST_OPT_ALG = 256,
    CLI_MANIFEST_OPT_CLASS,
    CLI_MANIFEST_OPT_CLASS_ID,
    CLI_MANIFEST_OPT_COMPONENT,
    CLI_MANIFEST_OPT_COMPONENT_DESCRIPTION,
    CLI_MANIFEST_OPT_COMPONENT_VERSION,
    CLI_MANIFEST_OPT_FROM,
    CLI_MANIFEST_OPT_IMAGE,
    CLI_MANIFEST_OPT_INVOKE,
    CLI_MANIFEST_OPT_KEY,
    CLI_MANIFEST_OPT_KID,
    CLI_MANIFEST_OPT_MODEL_NAME,
    CLI_MANIFEST_OPT_REFERENCE_URI,
    CLI_MANIFEST_OPT_SEQ,
    CLI_MANIFEST_OPT_SEVER,
    CLI_MANIFEST_OPT_TEXT_DESCRIPTION,
    CLI_MANIFEST_OPT_URI,
    CLI_MANIFEST_OPT_VENDOR_DOMAIN,
    CLI_MANIFEST_OPT_VENDOR_ID,
    CLI_MANIFEST_OPT_VENDOR_NAME,
    CLI_MANIFEST_OPT_END
};

/* ---- signing keys ---- */

/** The --key, --alg and --kid options, then the loaded keys. The caller
 * zeroes it before use and wipes it with cli_manifest_signing_wipe(). */
typedef struct {
    const char *paths[DSUIT_SUIT_MAX_AUTH];
    size_t n;
    int64_t alg_p256, alg_ed; /* 0: default */
    int kid;
    dsuit_key_t keys[DSUIT_SUIT_MAX_AUTH];
    uint8_t kids[DSUIT_SUIT_MAX_AUTH][DSUIT_SHA256_LEN];
    dsuit_suit_build_signer_t signers[DSUIT_SUIT_MAX_AUTH];
} cli_manifest_signing_t;

/** One more --key; a usage error (2) past DSUIT_SUIT_MAX_AUTH keys. */
int cli_manifest_signing_add_key(const char *cmd, cli_manifest_signing_t *sg,
                                 const char *path);

/** --alg: es256, esp256, eddsa or ed25519; otherwise a usage error (2). */
int cli_manifest_signing_add_alg(const char *cmd, cli_manifest_signing_t *sg,
                                 const char *s);

/** Load the private keys and fill in the signers (and their key ids with
 * --kid). @return DSUIT_EXIT_OK, DSUIT_EXIT_FAIL or DSUIT_EXIT_REJECT (not
 * a private key, not a key). */
int cli_manifest_signing_load(const char *cmd, cli_manifest_signing_t *sg);

/** Wipe every key; the struct may then be zeroed and used again. */
void cli_manifest_signing_wipe(cli_manifest_signing_t *sg);

/* ---- vendor and class identifiers ---- */

/** --vendor-domain/--vendor-id and --class/--class-id, as given. */
typedef struct {
    const char *vendor_domain, *vendor_uuid, *class_name, *class_uuid;
} cli_manifest_ident_t;

/** Resolve vendor-id and class-id: one of each pair is needed; a name is
 * turned into a UUIDv5 (§8.4.8.2). Usage errors are 2, a crypto failure 1.
 * vendor and class_id are written only on success. */
int cli_manifest_resolve_ident(const char *cmd, const cli_manifest_ident_t *o,
                               uint8_t vendor[CLI_UUID_LEN],
                               uint8_t class_id[CLI_UUID_LEN]);

/* ---- severable members ---- */

/** "install,text,payload-fetch" (any of them, comma-separated; list is
 * cut up in place) -> DSUIT_SUIT_BUILD_MEMBER_* bits in *out. Returns NULL,
 * or the first unknown word ("" for an empty list), valid until the next
 * call; *out is then not written. */
const char *cli_manifest_parse_members(char *list, unsigned *out);

/* ---- create ---- */

/** Create's options, then the envelope's description. Opaque. */
typedef struct cli_manifest_create cli_manifest_create_t;

/**
 * A new, empty set of create options.
 * @param[out] out  freed with cli_manifest_create_free()
 * @return DSUIT_EXIT_OK, or DSUIT_EXIT_FAIL (out of memory, reported)
 */
int cli_manifest_create_new(const char *cmd, cli_manifest_create_t **out);

/** Wipe the keys and release everything; NULL does nothing. */
void cli_manifest_create_free(cli_manifest_create_t *m);

/**
 * Take one option, as create's getopt_long loop does.
 * @param[in] opt   a CLI_MANIFEST_OPT_* code
 * @param[in] name  its long name, for "'--NAME' cannot be combined with
 *                  '--from'"
 * @param[in] arg   its argument (NULL for flags); kept, not copied, until
 *                  cli_manifest_create_build(); --sever's is cut up in place
 * @return DSUIT_EXIT_OK, or DSUIT_EXIT_USAGE (bad --alg, too many --key)
 */
int cli_manifest_create_opt(const char *cmd, cli_manifest_create_t *m, int opt,
                            const char *name, char *arg);

/** Whether any --key was given (the envelope will be signed). */
int cli_manifest_create_signed(const cli_manifest_create_t *m);

/**
 * Check the options as create does, hash the image, load the keys and build
 * the envelope, signed with each key. Call once.
 * @param[in]  subject  the name "cannot build '<subject>'" reports
 * @param[out] out_env  the envelope, malloc'd; the caller frees it
 * @return DSUIT_EXIT_OK; DSUIT_EXIT_USAGE for missing or bad options;
 *         DSUIT_EXIT_FAIL (unreadable file, crypto failure) or
 *         DSUIT_EXIT_REJECT (bad --from description, not a private key)
 */
int cli_manifest_create_build(const char *cmd, cli_manifest_create_t *m,
                              const char *subject, uint8_t **out_env,
                              size_t *out_len);

#endif /* DSUIT_CLI_MANIFEST_H */
