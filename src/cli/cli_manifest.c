/*
 * Building and signing a SUIT envelope from `dsuit manifest create`'s
 * options (cli_manifest.h), for `manifest create` and `publish --key`: one
 * image from the command line, or components described in a JSON file,
 * built by src/device/suit/build.c following the draft's templates (§7).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_manifest.h"
#include "cli/cli_uuid.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/suit.h"
#include "dsuit/suit_build.h"

/* ---- component identifiers and member lists ---------------------------------
 */

/* A component identifier parsed from its path form; parts point into buf. */
typedef struct {
    uint8_t buf[DSUIT_SUIT_BUILD_MAX_ID_LEN];
    dsuit_suit_build_id_t id;
} id_store_t;

/* Parse "seg/seg/...": text, or 0x<hex>. Returns NULL or a reason. */
static const char *parse_component_id(const char *s, id_store_t *st)
{
    size_t used = 0;
    memset(st, 0, sizeof *st);
    for (;;) {
        const char *slash = strchr(s, '/');
        size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
        dsuit_bytes_t *part;
        if (n == 0)
            return "empty segment";
        if (st->id.n_parts == DSUIT_SUIT_BUILD_MAX_ID_PARTS)
            return "too many segments";
        part = &st->id.parts[st->id.n_parts++];
        part->ptr = st->buf + used;
        if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            if ((n - 2) / 2 > sizeof st->buf - used)
                return "too long";
            if (cli_hex_decode(s + 2, n - 2, st->buf + used) != 0)
                return "bad hex after 0x";
            part->len = (n - 2) / 2;
        } else {
            if (n > sizeof st->buf - used)
                return "too long";
            memcpy(st->buf + used, s, n);
            part->len = n;
        }
        used += part->len;
        if (slash == NULL)
            break;
        s = slash + 1;
    }
    return NULL;
}

/* "install,text" -> member bits; returns NULL or the bad word. */
const char *cli_manifest_parse_members(char *list, unsigned *out)
{
    static char bad[64];
    unsigned bits = 0;
    char *save = NULL;
    for (char *w = strtok_r(list, ",", &save); w != NULL;
         w = strtok_r(NULL, ",", &save)) {
        if (strcmp(w, "install") == 0)
            bits |= DSUIT_SUIT_BUILD_MEMBER_INSTALL;
        else if (strcmp(w, "text") == 0)
            bits |= DSUIT_SUIT_BUILD_MEMBER_TEXT;
        else if (strcmp(w, "payload-fetch") == 0)
            bits |= DSUIT_SUIT_BUILD_MEMBER_PAYLOAD_FETCH;
        else {
            snprintf(bad, sizeof bad, "%s", w);
            return bad;
        }
    }
    if (bits == 0)
        return "";
    *out = bits;
    return NULL;
}

/* --alg value -> COSE algorithm and the key type it fits. */
static int parse_alg(const char *s, int64_t *alg, dsuit_key_type_t *type)
{
    static const struct {
        const char *name;
        int64_t alg;
        dsuit_key_type_t type;
    } algs[] = {
        {"es256", DSUIT_COSE_ALG_ES256, DSUIT_KEY_P256},
        {"esp256", DSUIT_COSE_ALG_ESP256, DSUIT_KEY_P256},
        {"eddsa", DSUIT_COSE_ALG_EDDSA, DSUIT_KEY_ED25519},
        {"ed25519", DSUIT_COSE_ALG_ED25519, DSUIT_KEY_ED25519},
    };
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (strcmp(s, algs[i].name) == 0) {
            *alg = algs[i].alg;
            *type = algs[i].type;
            return 0;
        }
    return -1;
}

/* ---- signing keys -----------------------------------------------------------
 */

int cli_manifest_signing_add_key(const char *cmd, cli_manifest_signing_t *sg,
                                 const char *path)
{
    if (sg->n == DSUIT_SUIT_MAX_AUTH)
        return cli_usage_error(cmd, "too many '--key' options (at most %d)",
                               DSUIT_SUIT_MAX_AUTH);
    sg->paths[sg->n++] = path;
    return DSUIT_EXIT_OK;
}

int cli_manifest_signing_add_alg(const char *cmd, cli_manifest_signing_t *sg,
                                 const char *s)
{
    int64_t alg;
    dsuit_key_type_t type;
    if (parse_alg(s, &alg, &type) != 0)
        return cli_usage_error(
            cmd, "unknown algorithm '%s': use es256, esp256, eddsa or ed25519",
            s);
    if (type == DSUIT_KEY_P256)
        sg->alg_p256 = alg;
    else
        sg->alg_ed = alg;
    return DSUIT_EXIT_OK;
}

/* Load the private keys and fill in the signers. */
int cli_manifest_signing_load(const char *cmd, cli_manifest_signing_t *sg)
{
    int used_p256 = 0, used_ed = 0;
    for (size_t i = 0; i < sg->n; i++) {
        dsuit_key_t *k = &sg->keys[i];
        int rc = cli_load_key(cmd, sg->paths[i], k);
        if (rc != DSUIT_EXIT_OK)
            return rc;
        if (!k->has_private) {
            cli_error_subject(cmd, "cannot sign with", sg->paths[i],
                              "not a private key");
            return DSUIT_EXIT_REJECT;
        }
        sg->signers[i].key = k;
        if (k->type == DSUIT_KEY_P256) {
            sg->signers[i].alg = sg->alg_p256;
            used_p256 = 1;
        } else {
            sg->signers[i].alg = sg->alg_ed;
            used_ed = 1;
        }
        if (sg->kid) {
            int err = dsuit_cose_key_id(k, sg->kids[i]);
            if (err != DSUIT_OK) {
                cli_error_subject(cmd, "cannot compute key id", sg->paths[i],
                                  dsuit_strerror(err));
                return cli_exit_for_err(err);
            }
            sg->signers[i].kid = sg->kids[i];
            sg->signers[i].kid_len = DSUIT_SHA256_LEN;
        }
    }
    if (sg->alg_p256 != 0 && !used_p256)
        cli_warn(cmd, "'--alg %s' fits none of the keys (P-256)",
                 dsuit_cose_alg_name(sg->alg_p256));
    if (sg->alg_ed != 0 && !used_ed)
        cli_warn(cmd, "'--alg %s' fits none of the keys (Ed25519)",
                 dsuit_cose_alg_name(sg->alg_ed));
    return DSUIT_EXIT_OK;
}

void cli_manifest_signing_wipe(cli_manifest_signing_t *sg)
{
    for (size_t i = 0; i < DSUIT_SUIT_MAX_AUTH; i++)
        dsuit_key_wipe(&sg->keys[i]);
}

/* ---- vendor / class options
 * --------------------------------------------------- */

/* Resolve vendor-id and class-id from the options; usage errors are 2. */
int cli_manifest_resolve_ident(const char *cmd, const cli_manifest_ident_t *o,
                               uint8_t vendor[CLI_UUID_LEN],
                               uint8_t class_id[CLI_UUID_LEN])
{
    if (o->vendor_domain != NULL && o->vendor_uuid != NULL)
        return cli_usage_error(
            cmd, "give '--vendor-domain' or '--vendor-id', not both");
    if (o->class_name != NULL && o->class_uuid != NULL)
        return cli_usage_error(cmd, "give '--class' or '--class-id', not both");
    if (o->vendor_domain == NULL && o->vendor_uuid == NULL)
        return cli_usage_error(cmd, "missing option '--vendor-domain' or "
                                    "'--vendor-id'");
    if (o->class_name == NULL && o->class_uuid == NULL)
        return cli_usage_error(cmd, "missing option '--class' or '--class-id'");
    if (o->vendor_uuid != NULL && cli_uuid_parse(o->vendor_uuid, vendor) != 0)
        return cli_usage_error(cmd, "invalid UUID '%s' for '--vendor-id'",
                               o->vendor_uuid);
    if (o->class_uuid != NULL && cli_uuid_parse(o->class_uuid, class_id) != 0)
        return cli_usage_error(cmd, "invalid UUID '%s' for '--class-id'",
                               o->class_uuid);
    if (o->vendor_domain != NULL &&
        cli_uuid5(cli_uuid_ns_dns, o->vendor_domain, strlen(o->vendor_domain),
                  vendor) != 0) {
        cli_error(cmd, "cannot compute UUIDv5: crypto backend failure");
        return DSUIT_EXIT_FAIL;
    }
    if (o->class_name != NULL &&
        cli_uuid5(vendor, o->class_name, strlen(o->class_name), class_id) !=
            0) {
        cli_error(cmd, "cannot compute UUIDv5: crypto backend failure");
        return DSUIT_EXIT_FAIL;
    }
    return DSUIT_EXIT_OK;
}

/* ---- descriptions: from the options or a JSON file -------------------------
 */

/* SHA-256 and size of a file, read in blocks. */
static int hash_file(const char *cmd, const char *path,
                     uint8_t digest[DSUIT_SHA256_LEN], uint64_t *size)
{
    static uint8_t block[64 * 1024];
    dsuit_sha256_ctx_t h;
    uint64_t total = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = DSUIT_EXIT_FAIL;

    if (fd < 0) {
        cli_error_subject(cmd, "cannot read", path, strerror(errno));
        return DSUIT_EXIT_FAIL;
    }
    if (dsuit_sha256_init(&h) != DSUIT_OK)
        goto crypto;
    for (;;) {
        ssize_t n = read(fd, block, sizeof block);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cli_error_subject(cmd, "cannot read", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (dsuit_sha256_update(&h, block, (size_t)n) != DSUIT_OK)
            goto crypto;
        total += (uint64_t)n;
    }
    if (dsuit_sha256_final(&h, digest) != DSUIT_OK)
        goto crypto;
    *size = total;
    rc = DSUIT_EXIT_OK;
    goto out;
crypto:
    cli_error_subject(cmd, "cannot hash", path, dsuit_strerror(DSUIT_E_CRYPTO));
out:
    close(fd);
    return rc;
}

/* Everything a description borrows, so it can be released in one place. */
typedef struct {
    dsuit_suit_build_desc_t desc;
    id_store_t ids[DSUIT_MAX_COMPONENTS];
    json_t *json; /* strings of a --from description point into it */
    char *dir;    /* the description's folder, for relative image paths */
} desc_store_t;

/* Report a bad JSON description (exit 3: the file's content). */
static int desc_error(const char *cmd, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int desc_error(const char *cmd, const char *path, const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    cli_error_subject(cmd, "cannot use description", path, reason);
    return DSUIT_EXIT_REJECT;
}

/* Optional string member; -1 if present and not a string. */
static int json_opt_str(json_t *obj, const char *key, const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    return 0;
}

/* Every key of obj must be in the NULL-terminated list; returns the first
 * that is not, or NULL. */
static const char *json_unknown_key(json_t *obj, const char *const *known)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        size_t i = 0;
        (void)v;
        while (known[i] != NULL && strcmp(known[i], key) != 0)
            i++;
        if (known[i] == NULL)
            return key;
    }
    return NULL;
}

static int json_component(const char *cmd, const char *path, desc_store_t *st,
                          size_t i, json_t *c)
{
    static const char *const known[] = {
        "id",     "vendor-domain", "vendor-id", "class", "class-id", "image",
        "digest", "size",          "uri",       "text",  NULL};
    static const char *const text_known[] = {
        "vendor-name", "model-name",  "vendor-domain",
        "model-info",  "description", "version",
        NULL};
    dsuit_suit_build_component_t *k = &st->desc.components[i];
    cli_manifest_ident_t io = {0};
    const char *id = "0x00", *image = NULL, *digest = NULL, *bad, *why;
    json_t *size = json_object_get(c, "size"), *text;
    char where[48];
    int rc;

    snprintf(where, sizeof where, "components[%zu]", i);
    if (!json_is_object(c))
        return desc_error(cmd, path, "%s is not an object", where);
    bad = json_unknown_key(c, known);
    if (bad != NULL)
        return desc_error(cmd, path, "unknown key '%s'", bad);
    if (json_opt_str(c, "id", &id) || json_opt_str(c, "image", &image) ||
        json_opt_str(c, "digest", &digest) || json_opt_str(c, "uri", &k->uri) ||
        json_opt_str(c, "vendor-domain", &io.vendor_domain) ||
        json_opt_str(c, "vendor-id", &io.vendor_uuid) ||
        json_opt_str(c, "class", &io.class_name) ||
        json_opt_str(c, "class-id", &io.class_uuid))
        return desc_error(cmd, path, "%s has a member that is not a string",
                          where);
    why = parse_component_id(id, &st->ids[i]);
    if (why != NULL)
        return desc_error(cmd, path, "bad component id: %s", why);
    k->id = st->ids[i].id;
    if ((io.vendor_domain != NULL) == (io.vendor_uuid != NULL) ||
        (io.class_name != NULL) == (io.class_uuid != NULL))
        return desc_error(cmd, path,
                          "%s needs one of vendor-domain/vendor-id and one "
                          "of class/class-id",
                          where);
    if ((io.vendor_uuid && cli_uuid_parse(io.vendor_uuid, k->vendor_id)) ||
        (io.class_uuid && cli_uuid_parse(io.class_uuid, k->class_id)))
        return desc_error(cmd, path, "%s has an invalid UUID", where);
    if ((io.vendor_domain &&
         cli_uuid5(cli_uuid_ns_dns, io.vendor_domain, strlen(io.vendor_domain),
                   k->vendor_id)) ||
        (io.class_name && cli_uuid5(k->vendor_id, io.class_name,
                                    strlen(io.class_name), k->class_id))) {
        cli_error(cmd, "cannot compute UUIDv5: crypto backend failure");
        return DSUIT_EXIT_FAIL;
    }
    if (image != NULL) {
        char *full = NULL;
        if (digest != NULL || size != NULL)
            return desc_error(
                cmd, path, "%s gives image and digest/size: choose one", where);
        /* Relative image paths are relative to the description's folder. */
        if (image[0] != '/' && st->dir != NULL) {
            full = malloc(strlen(st->dir) + strlen(image) + 2);
            if (full == NULL) {
                cli_error(cmd, "out of memory");
                return DSUIT_EXIT_FAIL;
            }
            sprintf(full, "%s/%s", st->dir, image);
        }
        rc = hash_file(cmd, full != NULL ? full : image, k->image_digest,
                       &k->image_size);
        free(full);
        if (rc != DSUIT_EXIT_OK)
            return rc;
    } else {
        if (digest == NULL || !json_is_integer(size) ||
            json_integer_value(size) < 0)
            return desc_error(cmd, path, "%s needs image, or digest and size",
                              where);
        if (strlen(digest) != 2 * DSUIT_SHA256_LEN ||
            cli_hex_decode(digest, 2 * DSUIT_SHA256_LEN, k->image_digest) != 0)
            return desc_error(
                cmd, path, "%s digest is not 64 hex digits (SHA-256)", where);
        k->image_size = (uint64_t)json_integer_value(size);
    }
    text = json_object_get(c, "text");
    if (text != NULL) {
        dsuit_suit_build_text_t *t = &k->text;
        if (!json_is_object(text))
            return desc_error(cmd, path, "%s text is not an object", where);
        bad = json_unknown_key(text, text_known);
        if (bad != NULL)
            return desc_error(cmd, path, "unknown text key '%s'", bad);
        if (json_opt_str(text, "vendor-name", &t->vendor_name) ||
            json_opt_str(text, "model-name", &t->model_name) ||
            json_opt_str(text, "vendor-domain", &t->vendor_domain) ||
            json_opt_str(text, "model-info", &t->model_info) ||
            json_opt_str(text, "description", &t->description) ||
            json_opt_str(text, "version", &t->version))
            return desc_error(cmd, path, "%s text value is not a string",
                              where);
    }
    return DSUIT_EXIT_OK;
}

/* Fill st->desc from a JSON description file. */
static int desc_from_json(const char *cmd, const char *path, desc_store_t *st)
{
    static const char *const known[] = {
        "sequence-number", "components", "reference-uri",
        "description",     "language",   "invoke",
        "validate",        "severable",  NULL};
    dsuit_suit_build_desc_t *d = &st->desc;
    json_error_t jerr;
    json_t *root, *comps, *v;
    uint8_t *buf = NULL;
    size_t len = 0;
    const char *bad, *slash;
    int rc;

    rc = cli_read_file(cmd, path, CLI_MANIFEST_FILE_MAX, &buf, &len);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (root == NULL) {
        char reason[256];
        snprintf(reason, sizeof reason, "line %d: %s", jerr.line, jerr.text);
        cli_error_subject(cmd, "cannot use description", path, reason);
        return DSUIT_EXIT_REJECT;
    }
    st->json = root;
    slash = strrchr(path, '/');
    if (slash != NULL) {
        st->dir = strndup(path, (size_t)(slash - path) + (slash == path));
        if (st->dir == NULL) {
            cli_error(cmd, "out of memory");
            return DSUIT_EXIT_FAIL;
        }
    }
    if (!json_is_object(root))
        return desc_error(cmd, path, "%s", "not a JSON object");
    bad = json_unknown_key(root, known);
    if (bad != NULL)
        return desc_error(cmd, path, "unknown key '%s'", bad);

    v = json_object_get(root, "sequence-number");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return desc_error(cmd, path, "%s",
                          "sequence-number must be a non-negative integer");
    d->seq = (uint64_t)json_integer_value(v);
    if (json_opt_str(root, "reference-uri", &d->reference_uri) ||
        json_opt_str(root, "description", &d->description) ||
        json_opt_str(root, "language", &d->text_lang))
        return desc_error(cmd, path, "%s",
                          "reference-uri, description and language must be "
                          "strings");
    comps = json_object_get(root, "components");
    if (!json_is_array(comps) || json_array_size(comps) == 0 ||
        json_array_size(comps) > DSUIT_MAX_COMPONENTS) {
        return desc_error(cmd, path,
                          "components must be an array of 1 to %d objects",
                          DSUIT_MAX_COMPONENTS);
    }
    d->n_components = json_array_size(comps);
    for (size_t i = 0; i < d->n_components; i++) {
        rc = json_component(cmd, path, st, i, json_array_get(comps, i));
        if (rc != DSUIT_EXIT_OK)
            return rc;
        if (d->components[i].uri != NULL)
            d->sequences |= DSUIT_SUIT_BUILD_INSTALL;
    }
    v = json_object_get(root, "validate");
    if (v != NULL && !json_is_boolean(v))
        return desc_error(cmd, path, "%s", "validate must be true or false");
    if (v != NULL && json_is_false(v))
        d->sequences &= ~DSUIT_SUIT_BUILD_VALIDATE;
    v = json_object_get(root, "invoke");
    if (v != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (size_t)json_integer_value(v) >= d->n_components)
            return desc_error(cmd, path, "%s",
                              "invoke must be the index of a component");
        d->sequences |= DSUIT_SUIT_BUILD_INVOKE;
        d->invoke_component = (size_t)json_integer_value(v);
    }
    v = json_object_get(root, "severable");
    if (v != NULL) {
        size_t i;
        json_t *w;
        if (!json_is_array(v))
            return desc_error(cmd, path, "%s",
                              "severable must be an array of member names");
        json_array_foreach(v, i, w)
        {
            const char *s = json_is_string(w) ? json_string_value(w) : "";
            if (strcmp(s, "install") == 0)
                d->severable |= DSUIT_SUIT_BUILD_MEMBER_INSTALL;
            else if (strcmp(s, "text") == 0)
                d->severable |= DSUIT_SUIT_BUILD_MEMBER_TEXT;
            else
                return desc_error(cmd, path,
                                  "severable member '%s' is not install or "
                                  "text",
                                  s);
        }
    }
    return DSUIT_EXIT_OK;
}

static void desc_store_free(desc_store_t *st)
{
    json_decref(st->json);
    free(st->dir);
}

/* Build into a new malloc'd buffer: measure, then build. */
static int build_to_buffer(const dsuit_suit_build_desc_t *d,
                           const cli_manifest_signing_t *sg, uint8_t **out,
                           size_t *out_len)
{
    size_t need = 0, len = 0;
    uint8_t *buf;
    int rc = sg->n > 0 ? dsuit_suit_build_envelope(d, sg->signers, sg->n, NULL,
                                                   0, &need)
                       : dsuit_suit_build_unsigned(d, NULL, 0, &need);
    if (rc != DSUIT_E_LIMIT)
        return rc == DSUIT_OK ? DSUIT_E_INVAL : rc;
    buf = malloc(need);
    if (buf == NULL)
        return DSUIT_E_NOMEM;
    rc = sg->n > 0
             ? dsuit_suit_build_envelope(d, sg->signers, sg->n, buf, need, &len)
             : dsuit_suit_build_unsigned(d, buf, need, &len);
    if (rc != DSUIT_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = len;
    return DSUIT_OK;
}
/* ---- create -----------------------------------------------------------------
 */

struct cli_manifest_create {
    desc_store_t st;
    cli_manifest_signing_t sg;
    cli_manifest_ident_t io;
    const char *from, *image, *seq, *component;
    const char *desc_opt; /* the first option --from cannot go with */
    char *sever;
    int any_text;
};

int cli_manifest_create_new(const char *cmd, cli_manifest_create_t **out)
{
    cli_manifest_create_t *m = calloc(1, sizeof *m);
    if (m == NULL) {
        cli_error(cmd, "out of memory");
        return DSUIT_EXIT_FAIL;
    }
    dsuit_suit_build_desc_init(&m->st.desc);
    m->component = "0x00";
    *out = m;
    return DSUIT_EXIT_OK;
}

void cli_manifest_create_free(cli_manifest_create_t *m)
{
    if (m == NULL)
        return;
    cli_manifest_signing_wipe(&m->sg);
    desc_store_free(&m->st);
    free(m);
}

int cli_manifest_create_signed(const cli_manifest_create_t *m)
{
    return m->sg.n > 0;
}

int cli_manifest_create_opt(const char *cmd, cli_manifest_create_t *m, int opt,
                            const char *name, char *arg)
{
    dsuit_suit_build_desc_t *d = &m->st.desc;
    dsuit_suit_build_component_t *k = &d->components[0];

    /* Options that describe the manifest, which --from also does. */
    if (opt != CLI_MANIFEST_OPT_FROM && opt != CLI_MANIFEST_OPT_KEY &&
        opt != CLI_MANIFEST_OPT_ALG && opt != CLI_MANIFEST_OPT_KID &&
        m->desc_opt == NULL)
        m->desc_opt = name;
    switch (opt) {
    case CLI_MANIFEST_OPT_ALG:
        return cli_manifest_signing_add_alg(cmd, &m->sg, arg);
    case CLI_MANIFEST_OPT_CLASS:
        m->io.class_name = arg;
        break;
    case CLI_MANIFEST_OPT_CLASS_ID:
        m->io.class_uuid = arg;
        break;
    case CLI_MANIFEST_OPT_COMPONENT:
        m->component = arg;
        break;
    case CLI_MANIFEST_OPT_COMPONENT_DESCRIPTION:
        k->text.description = arg;
        m->any_text = 1;
        break;
    case CLI_MANIFEST_OPT_COMPONENT_VERSION:
        k->text.version = arg;
        m->any_text = 1;
        break;
    case CLI_MANIFEST_OPT_FROM:
        m->from = arg;
        break;
    case CLI_MANIFEST_OPT_IMAGE:
        m->image = arg;
        break;
    case CLI_MANIFEST_OPT_INVOKE:
        d->sequences |= DSUIT_SUIT_BUILD_INVOKE;
        break;
    case CLI_MANIFEST_OPT_KEY:
        return cli_manifest_signing_add_key(cmd, &m->sg, arg);
    case CLI_MANIFEST_OPT_KID:
        m->sg.kid = 1;
        break;
    case CLI_MANIFEST_OPT_MODEL_NAME:
        k->text.model_name = arg;
        m->any_text = 1;
        break;
    case CLI_MANIFEST_OPT_REFERENCE_URI:
        d->reference_uri = arg;
        break;
    case CLI_MANIFEST_OPT_SEQ:
        m->seq = arg;
        break;
    case CLI_MANIFEST_OPT_SEVER:
        m->sever = arg;
        break;
    case CLI_MANIFEST_OPT_TEXT_DESCRIPTION:
        d->description = arg;
        m->any_text = 1;
        break;
    case CLI_MANIFEST_OPT_URI:
        k->uri = arg;
        d->sequences |= DSUIT_SUIT_BUILD_INSTALL;
        break;
    case CLI_MANIFEST_OPT_VENDOR_DOMAIN:
        m->io.vendor_domain = arg;
        break;
    case CLI_MANIFEST_OPT_VENDOR_ID:
        m->io.vendor_uuid = arg;
        break;
    case CLI_MANIFEST_OPT_VENDOR_NAME:
        k->text.vendor_name = arg;
        m->any_text = 1;
        break;
    default: /* a caller's mistake, not the user's */
        cli_error(cmd, "internal error: option %d is not create's", opt);
        return DSUIT_EXIT_FAIL;
    }
    return DSUIT_EXIT_OK;
}

/* The description from --image and the other options (not --from). */
static int desc_from_options(const char *cmd, cli_manifest_create_t *m)
{
    dsuit_suit_build_desc_t *d = &m->st.desc;
    dsuit_suit_build_component_t *k = &d->components[0];
    const char *why;
    uint64_t n;
    int rc;

    if (m->seq == NULL)
        return cli_usage_error(cmd, "missing option '--seq'");
    if (cli_parse_u64(m->seq, &n) != 0)
        return cli_usage_error(cmd, "invalid sequence number '%s'", m->seq);
    d->seq = n;
    if (m->image == NULL)
        return cli_usage_error(cmd, "missing option '--image'");
    rc = cli_manifest_resolve_ident(cmd, &m->io, k->vendor_id, k->class_id);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    why = parse_component_id(m->component, &m->st.ids[0]);
    if (why != NULL)
        return cli_usage_error(cmd, "invalid component '%s': %s", m->component,
                               why);
    k->id = m->st.ids[0].id;
    if (m->sever != NULL) {
        const char *bad = cli_manifest_parse_members(m->sever, &d->severable);
        if (bad != NULL ||
            (d->severable & DSUIT_SUIT_BUILD_MEMBER_PAYLOAD_FETCH))
            return cli_usage_error(
                cmd, "invalid member '%s' for '--sever': use install, text",
                bad != NULL ? bad : "payload-fetch");
        if ((d->severable & DSUIT_SUIT_BUILD_MEMBER_INSTALL) && k->uri == NULL)
            return cli_usage_error(cmd, "'--sever install' needs '--uri' "
                                        "(no install sequence otherwise)");
        if ((d->severable & DSUIT_SUIT_BUILD_MEMBER_TEXT) && !m->any_text)
            return cli_usage_error(cmd, "'--sever text' needs a text "
                                        "option (no text otherwise)");
    }
    /* With text, record what the identifiers were made from. */
    if (m->any_text &&
        (k->text.vendor_name || k->text.model_name || k->text.description ||
         k->text.version || d->description)) {
        k->text.vendor_domain = m->io.vendor_domain;
        k->text.model_info = m->io.class_name;
    }
    d->n_components = 1;
    return hash_file(cmd, m->image, k->image_digest, &k->image_size);
}

int cli_manifest_create_build(const char *cmd, cli_manifest_create_t *m,
                              const char *subject, uint8_t **out_env,
                              size_t *out_len)
{
    uint8_t *env = NULL;
    size_t env_len = 0;
    int rc, err;

    if (m->from != NULL) {
        if (m->desc_opt != NULL)
            return cli_usage_error(
                cmd, "'--%s' cannot be combined with '--from'", m->desc_opt);
        dsuit_suit_build_desc_init(&m->st.desc);
        rc = desc_from_json(cmd, m->from, &m->st);
    } else {
        rc = desc_from_options(cmd, m);
    }
    if (rc != DSUIT_EXIT_OK)
        return rc;

    rc = cli_manifest_signing_load(cmd, &m->sg);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    err = build_to_buffer(&m->st.desc, &m->sg, &env, &env_len);
    if (err != DSUIT_OK) {
        const char *reason = err == DSUIT_E_INVAL
                                 ? "invalid description (duplicate component "
                                   "ids, bad UTF-8 or nothing to install)"
                                 : dsuit_strerror(err);
        cli_error_subject(cmd, "cannot build", subject, reason);
        return err == DSUIT_E_INVAL && m->from != NULL ? DSUIT_EXIT_REJECT
               : err == DSUIT_E_INVAL                  ? DSUIT_EXIT_USAGE
                                                       : cli_exit_for_err(err);
    }
    *out_env = env;
    *out_len = env_len;
    return DSUIT_EXIT_OK;
}
