/*
 * `dsuit ledger <verb>`: look into a node's ledger folder (the LMDB store
 * of docs/formats/ledger.md) without changing it. Verbs:
 *
 *   verify --data DIR [--genesis FILE]
 *       replay every block from genesis into a scratch ledger
 *       (dsuit_ledger_verify) and compare hashes, results and roots; with
 *       --genesis, also check that DIR belongs to that chain
 *   show --data DIR [summary|blocks|authors|manifests|devices]
 *       print the chain's tip and table sizes, or one table's records
 *
 * The folder is always opened read-only (dsuit_store_opts_t.read_only), so
 * both verbs can inspect the folder of a running node: LMDB readers see a
 * snapshot and never block the node's writer. Records are read in one read
 * transaction and turned into JSON values (which copy what they hold)
 * before it ends; the text form is printed from those values, so both
 * forms always show the same data. Page: docs/cli/dsuit-ledger.md.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_tx.h"
#include "cli/cli_uuid.h"
#include "dsuit/block.h"
#include "dsuit/cbor.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/genesis.h"
#include "dsuit/ledger.h"
#include "dsuit/store.h"
#include "dsuit/tx.h"

#define CMD_VERIFY "ledger verify"
#define CMD_SHOW   "ledger show"

#define GENESIS_FILE_MAX (256 * 1024)

static const char usage[] =
    "usage: dsuit ledger verify --data DIR [--genesis FILE]\n"
    "       dsuit ledger show --data DIR [VIEW] [--json] [--from H] [--to H]\n"
    "\n"
    "Inspect a ledger folder (read-only; a running node may keep using it).\n"
    "\n"
    "verbs:\n"
    "  verify   replay every block from genesis and check hashes, results\n"
    "           and roots\n"
    "  show     print the tip and table sizes, or the blocks, authors,\n"
    "           manifests or devices\n"
    "\n"
    "Run 'dsuit ledger <verb> --help' for the options of a verb.\n";

static const char verify_usage[] =
    "usage: dsuit ledger verify --data DIR [--genesis FILE]\n"
    "\n"
    "Replay every block of the ledger in DIR from its genesis into a\n"
    "scratch ledger (in $TMPDIR), checking each block's proposer signature,\n"
    "transaction results and roots, then compare the final tip and state\n"
    "root with DIR's. Prints \"verified N blocks, tip HASH, state root "
    "HASH\".\n"
    "\n"
    "options:\n"
    "  --data DIR       the ledger folder\n"
    "  --genesis FILE   also check that DIR belongs to this genesis\n"
    "  --help, -h       show this help\n";

static const char show_usage[] =
    "usage: dsuit ledger show --data DIR [VIEW] [--json] [--from H] [--to H]\n"
    "\n"
    "VIEW is one of:\n"
    "  summary     chain, height, tip, state root, manifest log size and\n"
    "              the number of entries of each table (the default)\n"
    "  blocks      height, hash, time, proposer and transaction results\n"
    "  authors     registered author keys\n"
    "  manifests   accepted manifests, in manifest log order\n"
    "  devices     registered devices\n"
    "\n"
    "options:\n"
    "  --data DIR   the ledger folder\n"
    "  --from H     only records of height H or later\n"
    "  --help, -h   show this help\n"
    "  --json       print one JSON object instead of text\n"
    "  --to H       only records of height H or earlier\n";

enum { OPT_DATA = 256, OPT_FROM, OPT_GENESIS, OPT_JSON, OPT_TO };

/* Sorted by name. */
static const struct option verify_longopts[] = {
    {"data", required_argument, NULL, OPT_DATA},
    {"genesis", required_argument, NULL, OPT_GENESIS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Sorted by name. */
static const struct option show_longopts[] = {
    {"data", required_argument, NULL, OPT_DATA},
    {"from", required_argument, NULL, OPT_FROM},
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, OPT_JSON},
    {"to", required_argument, NULL, OPT_TO},
    {NULL, 0, NULL, 0},
};

/* ---- small helpers ------------------------------------------------------ */

static void hex32(const uint8_t p[32], char out[65])
{
    cli_hex_encode(p, 32, out, 65);
}

/* Text from the chain: its record decoders do not all insist on UTF-8, and
 * jansson refuses anything else, so invalid text shows as null. */
static json_t *text_json(const char *p, size_t n)
{
    json_t *j = json_stringn(p, n);
    return j != NULL ? j : json_null();
}

/* Milliseconds since 1970 as ISO 8601 UTC with milliseconds. */
static json_t *time_ms_json(uint64_t ms)
{
    char buf[64];
    struct tm tm;
    time_t t = (time_t)(ms / 1000);
    size_t n;
    if (ms / 1000 > 253402300799u || gmtime_r(&t, &tm) == NULL ||
        (n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
        return json_null();
    snprintf(buf + n, sizeof buf - n, ".%03uZ", (unsigned)(ms % 1000));
    return json_string(buf);
}

static const char *author_status_name(uint64_t s)
{
    switch (s) {
    case DSUIT_AUTHOR_ACTIVE:
        return "active";
    case DSUIT_AUTHOR_REVOKED:
        return "revoked";
    case DSUIT_AUTHOR_ROTATED:
        return "rotated";
    default:
        return "unknown";
    }
}

/* Integer member of a JSON object built here (0 if absent). */
static uint64_t jint(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

static const char *jstr(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "-";
}

/*
 * Open the ledger in dir read-only. Prints "cannot open ledger 'DIR': ..."
 * and returns DSUIT_EXIT_FAIL on failure.
 */
static int open_ledger(const char *cmd, const char *dir, dsuit_ledger_t **out)
{
    dsuit_ledger_opts_t o;
    struct stat st;
    char path[4096];
    const char *why = NULL;
    int err;

    if (stat(dir, &st) != 0) {
        cli_error_subject(cmd, "cannot open ledger", dir, strerror(errno));
        return DSUIT_EXIT_FAIL;
    }
    if (!S_ISDIR(st.st_mode)) {
        cli_error_subject(cmd, "cannot open ledger", dir, "not a folder");
        return DSUIT_EXIT_FAIL;
    }
    /* Read-only LMDB cannot create the store, and says only "not found";
     * say what is missing. */
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &st) != 0) {
        cli_error_subject(cmd, "cannot open ledger", dir,
                          "no ledger in this folder (no data.mdb)");
        return DSUIT_EXIT_FAIL;
    }
    memset(&o, 0, sizeof o);
    o.store.read_only = 1;
    err = dsuit_ledger_open(dir, NULL, 0, &o, out, &why);
    if (err != DSUIT_OK) {
        char reason[256];
        snprintf(reason, sizeof reason, "%s (%s)",
                 why != NULL ? why : "cannot open", dsuit_strerror(err));
        cli_error_subject(cmd, "cannot open ledger", dir, reason);
        return DSUIT_EXIT_FAIL;
    }
    return DSUIT_EXIT_OK;
}

/* ---- verify ------------------------------------------------------------- */

/* Hash and state root after block h (h = 0: the genesis state). */
static int tip_at(dsuit_ledger_t *l, uint64_t h, uint8_t hash[32],
                  uint8_t root[32])
{
    uint8_t *blk = NULL;
    size_t len = 0;
    dsuit_block_t b;
    int err;
    if (h == 0 || h == dsuit_ledger_height(l)) {
        if (h == 0 && dsuit_ledger_height(l) != 0)
            return DSUIT_E_INVAL; /* cannot happen: verify starts at 1 */
        dsuit_ledger_tip(l, hash, root);
        return DSUIT_OK;
    }
    err = dsuit_ledger_block(l, h, &blk, &len);
    if (err == DSUIT_OK)
        err = dsuit_block_decode(blk, len, &b);
    if (err == DSUIT_OK) {
        memcpy(hash, b.hash, 32);
        memcpy(root, b.header.state_root, 32);
    }
    free(blk);
    return err;
}

static int ledger_verify(int argc, char **argv)
{
    const char *dir = NULL, *gpath = NULL, *why = NULL, *tmp;
    dsuit_ledger_t *l = NULL;
    dsuit_genesis_t *g = NULL;
    uint8_t *gbuf = NULL;
    size_t glen = 0;
    uint64_t h = 0;
    uint8_t hash[32], root[32];
    char hash_hex[65], root_hex[65];
    int c, err, rc;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", verify_longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DATA:
            dir = optarg;
            break;
        case OPT_GENESIS:
            gpath = optarg;
            break;
        case 'h':
            fputs(verify_usage, stdout);
            return DSUIT_EXIT_OK;
        default:
            return cli_getopt_error(CMD_VERIFY, c, argv, verify_longopts);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD_VERIFY, "unexpected argument '%s'",
                               argv[optind]);
    if (dir == NULL)
        return cli_usage_error(CMD_VERIFY, "missing option '--data'");
    if (dir[0] == '\0')
        return cli_usage_error(CMD_VERIFY, "empty folder name for '--data'");

    if (gpath != NULL) {
        rc = cli_read_file(CMD_VERIFY, gpath, GENESIS_FILE_MAX, &gbuf, &glen);
        if (rc != DSUIT_EXIT_OK)
            return rc;
        err = dsuit_genesis_decode(gbuf, glen, &g, &why);
        free(gbuf);
        if (err != DSUIT_OK) {
            cli_error_subject(CMD_VERIFY, "rejected", gpath,
                              why != NULL ? why : dsuit_strerror(err));
            return err == DSUIT_E_NOMEM ? DSUIT_EXIT_FAIL : DSUIT_EXIT_REJECT;
        }
    }
    rc = open_ledger(CMD_VERIFY, dir, &l);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    /* The chain id hash is SHA-256 of the genesis bytes: equal hashes,
     * equal genesis. */
    if (g != NULL &&
        memcmp(dsuit_ledger_genesis(l)->hash, g->hash, DSUIT_SHA256_LEN) != 0) {
        char reason[512];
        snprintf(reason, sizeof reason,
                 "the ledger is of chain '%s', not of the genesis in '%s'",
                 dsuit_ledger_genesis(l)->chain_name, gpath);
        cli_error_subject(CMD_VERIFY, "rejected", dir, reason);
        rc = DSUIT_EXIT_REJECT;
        goto out;
    }
    /* LMDB must not have one environment open twice in a process. */
    dsuit_ledger_close(l);
    l = NULL;

    tmp = getenv("TMPDIR");
    err =
        dsuit_ledger_verify(dir, tmp != NULL && tmp[0] ? tmp : NULL, &h, &why);
    if (err == DSUIT_E_REJECTED) {
        char reason[512];
        snprintf(reason, sizeof reason, "block %" PRIu64 ": %s", h,
                 why != NULL ? why : dsuit_strerror(err));
        cli_error_subject(CMD_VERIFY, "rejected", dir, reason);
        rc = DSUIT_EXIT_REJECT;
        goto out;
    }
    if (err != DSUIT_OK) {
        char reason[512];
        snprintf(reason, sizeof reason, "%s (%s)",
                 why != NULL ? why : "cannot replay", dsuit_strerror(err));
        cli_error_subject(CMD_VERIFY, "cannot verify", dir, reason);
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    /* Report the tip of the height verified, even if a running node has
     * appended blocks since. */
    rc = open_ledger(CMD_VERIFY, dir, &l);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    err = tip_at(l, h, hash, root);
    if (err != DSUIT_OK) {
        cli_error_subject(CMD_VERIFY, "cannot read the tip of", dir,
                          dsuit_strerror(err));
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    hex32(hash, hash_hex);
    hex32(root, root_hex);
    printf("verified %" PRIu64 " blocks, tip %s, state root %s\n", h, hash_hex,
           root_hex);
    rc = DSUIT_EXIT_OK;
out:
    dsuit_ledger_close(l);
    dsuit_genesis_free(g);
    return rc;
}

/* ---- show: collecting --------------------------------------------------- */

typedef struct {
    const dsuit_genesis_t *g;
    dsuit_store_txn_t *txn;
    uint64_t from, to;
    json_t *list;
    int err;      /* first store or decode error */
    uint64_t bad; /* the height or index of the record that had it */
} walk_t;

#define WALK_STOP 1 /* a visitor's "done", not an error */

static int in_range(const walk_t *w, uint64_t h)
{
    return h >= w->from && h <= w->to;
}

static int walk_fail(walk_t *w, uint64_t where, int err)
{
    w->err = err;
    w->bad = where;
    return err;
}

static int visit_block(void *arg, const uint8_t *key, size_t key_len,
                       const uint8_t *val, size_t val_len)
{
    walk_t *w = arg;
    dsuit_block_t b;
    dsuit_block_iter_t it;
    json_t *blk, *txs;
    uint64_t h;
    const char *proposer = "?";

    if (key_len != 8)
        return walk_fail(w, 0, DSUIT_E_STORE);
    h = dsuit_store_u64_from(key);
    if (h < w->from)
        return 0;
    if (h > w->to)
        return WALK_STOP; /* keys are in height order */
    if (dsuit_block_decode(val, val_len, &b) != DSUIT_OK)
        return walk_fail(w, h, DSUIT_E_INVAL);
    if (b.header.proposer < w->g->n_validators)
        proposer = w->g->validators[b.header.proposer].name;
    txs = json_array();
    dsuit_block_iter_init(&it, &b);
    for (size_t i = 0; i < b.n_txs; i++) {
        const uint8_t *tx;
        size_t tx_len;
        uint64_t result;
        dsuit_tx_t t;
        uint8_t id[32];
        const char *type = "undecodable";
        if (dsuit_block_next_tx(&it, &tx, &tx_len, &result) != DSUIT_OK) {
            json_decref(txs);
            return walk_fail(w, h, DSUIT_E_INVAL);
        }
        /* A transaction that does not decode is named by the hash of its
         * bytes, as the ledger names it in the tx root. */
        if (dsuit_tx_decode(tx, tx_len, &t) == DSUIT_OK) {
            memcpy(id, t.id, 32);
            type = cli_tx_type_name(t.type);
        } else {
            dsuit_sha256(tx, tx_len, id);
        }
        json_array_append_new(
            txs, json_pack("{s:o,s:s,s:o,s:s}", "id", cli_hex_json(id, 32),
                           "type", type, "result_code", cli_u64_json(result),
                           "result", dsuit_txr_name((int)result)));
    }
    blk = json_object();
    json_object_set_new(blk, "height", cli_u64_json(h));
    json_object_set_new(blk, "hash", cli_hex_json(b.hash, 32));
    json_object_set_new(blk, "time_ms", cli_u64_json(b.header.time_ms));
    json_object_set_new(blk, "time_utc", time_ms_json(b.header.time_ms));
    json_object_set_new(blk, "proposer", cli_u64_json(b.header.proposer));
    json_object_set_new(blk, "proposer_name", json_string(proposer));
    json_object_set_new(blk, "manifest_log_size",
                        cli_u64_json(b.header.mlog_size));
    json_object_set_new(blk, "state_root",
                        cli_hex_json(b.header.state_root, 32));
    json_object_set_new(blk, "txs", txs);
    json_array_append_new(w->list, blk);
    return 0;
}

static int visit_author(void *arg, const uint8_t *key, size_t key_len,
                        const uint8_t *val, size_t val_len)
{
    walk_t *w = arg;
    dsuit_author_t a;
    json_t *o, *classes;

    if (key_len != 32 || dsuit_author_decode(val, val_len, &a) != DSUIT_OK)
        return walk_fail(w, 0, DSUIT_E_INVAL);
    if (!in_range(w, a.height))
        return 0;
    classes = json_array();
    /* Class ids are 16-byte bstrs one after another: 17 bytes apart. */
    for (size_t i = 0; i < a.n_classes; i++)
        json_array_append_new(classes, cli_uuid_json(a.classes + 17 * i));
    o = json_object();
    json_object_set_new(o, "key_id", cli_hex_json(key, 32));
    json_object_set_new(o, "name", text_json(a.name, a.name_len));
    json_object_set_new(o, "vendor_id", cli_uuid_json(a.vendor));
    json_object_set_new(o, "class_ids", classes);
    json_object_set_new(o, "status", json_string(author_status_name(a.status)));
    json_object_set_new(o, "height", cli_u64_json(a.height));
    json_array_append_new(w->list, o);
    return 0;
}

/* The encoded [+ Image] of a manifest record, as JSON. */
static json_t *images_json(const uint8_t *p, size_t n)
{
    dsuit_cbor_dec_t d;
    size_t count;
    json_t *list = json_array();

    dsuit_cbor_dec_init(&d, p, n, DSUIT_CBOR_STRICT);
    if (dsuit_cbor_get_array(&d, &count) != DSUIT_OK)
        goto bad;
    for (size_t i = 0; i < count; i++) {
        size_t m, n_chunks = 0;
        const uint8_t *digest = NULL;
        size_t digest_len = 0;
        uint64_t size = 0, chunk_size = 0, k;
        if (dsuit_cbor_get_map(&d, &m) != DSUIT_OK)
            goto bad;
        for (size_t j = 0; j < m; j++) {
            if (dsuit_cbor_get_uint(&d, &k) != DSUIT_OK)
                goto bad;
            if (k == 1) {
                if (dsuit_cbor_get_bstr(&d, &digest, &digest_len) != DSUIT_OK)
                    goto bad;
            } else if (k == 2) {
                if (dsuit_cbor_get_uint(&d, &size) != DSUIT_OK)
                    goto bad;
            } else if (k == 3) {
                if (dsuit_cbor_get_uint(&d, &chunk_size) != DSUIT_OK)
                    goto bad;
            } else if (k == 4) {
                if (dsuit_cbor_get_array(&d, &n_chunks) != DSUIT_OK)
                    goto bad;
                for (size_t c = 0; c < n_chunks; c++)
                    if (dsuit_cbor_skip(&d, NULL, NULL) != DSUIT_OK)
                        goto bad;
            } else if (dsuit_cbor_skip(&d, NULL, NULL) != DSUIT_OK) {
                goto bad;
            }
        }
        if (digest == NULL || digest_len != 32)
            goto bad;
        json_array_append_new(list,
                              json_pack("{s:o,s:o,s:o,s:o}", "digest",
                                        cli_hex_json(digest, 32), "size",
                                        cli_u64_json(size), "chunk_size",
                                        cli_u64_json(chunk_size), "chunks",
                                        cli_u64_json(n_chunks)));
    }
    return list;
bad:
    json_decref(list);
    return NULL;
}

/* MLOG leaf index -> leaf [digest, ...]; the record is in MANIFESTS. */
static int visit_leaf(void *arg, const uint8_t *key, size_t key_len,
                      const uint8_t *val, size_t val_len)
{
    walk_t *w = arg;
    dsuit_cbor_dec_t d;
    dsuit_manifest_rec_t m;
    const uint8_t *digest, *rec;
    size_t n, digest_len, rec_len;
    uint64_t index;
    json_t *o, *images;
    int err;

    if (key_len != 8)
        return walk_fail(w, 0, DSUIT_E_STORE);
    index = dsuit_store_u64_from(key);
    dsuit_cbor_dec_init(&d, val, val_len, DSUIT_CBOR_STRICT);
    if (dsuit_cbor_get_array(&d, &n) != DSUIT_OK || n != 5 ||
        dsuit_cbor_get_bstr(&d, &digest, &digest_len) != DSUIT_OK ||
        digest_len != 32)
        return walk_fail(w, index, DSUIT_E_INVAL);
    err = dsuit_store_get(w->txn, DSUIT_TBL_MANIFESTS, digest, 32, &rec,
                          &rec_len);
    if (err != DSUIT_OK)
        return walk_fail(w, index, err);
    if (dsuit_manifest_rec_decode(rec, rec_len, &m) != DSUIT_OK)
        return walk_fail(w, index, DSUIT_E_INVAL);
    if (!in_range(w, m.height))
        return 0;
    images = images_json(m.images, m.images_len);
    if (images == NULL)
        return walk_fail(w, index, DSUIT_E_INVAL);
    o = json_object();
    json_object_set_new(o, "digest", cli_hex_json(digest, 32));
    json_object_set_new(o, "vendor_id", cli_uuid_json(m.vendor));
    json_object_set_new(o, "class_id", cli_uuid_json(m.class_id));
    json_object_set_new(o, "sequence_number", cli_u64_json(m.seq));
    json_object_set_new(o, "height", cli_u64_json(m.height));
    json_object_set_new(o, "leaf_index", cli_u64_json(m.leaf_index));
    json_object_set_new(o, "author_key_id", cli_hex_json(m.author, 32));
    json_object_set_new(o, "envelope_size", cli_u64_json(m.envelope_len));
    json_object_set_new(o, "images", images);
    json_array_append_new(w->list, o);
    return 0;
}

/* DEVICES: device id -> {1: vendor, 2: class, 3: key, 4: height}, as
 * src/ledger/state.c writes it. */
static int visit_device(void *arg, const uint8_t *key, size_t key_len,
                        const uint8_t *val, size_t val_len)
{
    walk_t *w = arg;
    dsuit_cbor_dec_t d;
    size_t n, len[3];
    const uint8_t *f[3];
    uint64_t k, height;
    uint8_t kid[32];
    json_t *o;

    if (key_len != 16)
        return walk_fail(w, 0, DSUIT_E_STORE);
    dsuit_cbor_dec_init(&d, val, val_len, DSUIT_CBOR_STRICT);
    if (dsuit_cbor_get_map(&d, &n) != DSUIT_OK || n != 4)
        return walk_fail(w, 0, DSUIT_E_INVAL);
    for (uint64_t i = 1; i <= 3; i++) {
        if (dsuit_cbor_get_uint(&d, &k) != DSUIT_OK || k != i ||
            dsuit_cbor_get_bstr(&d, &f[i - 1], &len[i - 1]) != DSUIT_OK)
            return walk_fail(w, 0, DSUIT_E_INVAL);
    }
    if (dsuit_cbor_get_uint(&d, &k) != DSUIT_OK || k != 4 ||
        dsuit_cbor_get_uint(&d, &height) != DSUIT_OK || len[0] != 16 ||
        len[1] != 16)
        return walk_fail(w, 0, DSUIT_E_INVAL);
    if (!in_range(w, height))
        return 0;
    /* The key is stored in its one deterministic COSE_Key encoding, so the
     * key id is the hash of these bytes. */
    dsuit_sha256(f[2], len[2], kid);
    o = json_object();
    json_object_set_new(o, "device_id", cli_uuid_json(key));
    json_object_set_new(o, "vendor_id", cli_uuid_json(f[0]));
    json_object_set_new(o, "class_id", cli_uuid_json(f[1]));
    json_object_set_new(o, "key_id", cli_hex_json(kid, 32));
    json_object_set_new(o, "height", cli_u64_json(height));
    json_array_append_new(w->list, o);
    return 0;
}

/* By height, then by the id string: the order things happened in. */
static int cmp_by_height(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    uint64_t hx = jint(x, "height"), hy = jint(y, "height");
    const char *ix =
        json_object_get(x, "key_id") ? jstr(x, "key_id") : jstr(x, "device_id");
    const char *iy =
        json_object_get(y, "key_id") ? jstr(y, "key_id") : jstr(y, "device_id");
    if (hx != hy)
        return hx < hy ? -1 : 1;
    return strcmp(ix, iy);
}

static json_t *sorted_by_height(json_t *list)
{
    size_t n = json_array_size(list);
    json_t **v = calloc(n ? n : 1, sizeof *v), *out;
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(list, i);
    qsort(v, n, sizeof *v, cmp_by_height);
    out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(out, v[i]);
    free(v);
    return out;
}

static json_t *summary_json(dsuit_ledger_t *l, dsuit_store_txn_t *t, int *err)
{
    const dsuit_genesis_t *g = dsuit_ledger_genesis(l);
    uint8_t hash[32], root[32];
    json_t *o = json_object(), *tables = json_object();

    dsuit_ledger_tip(l, hash, root);
    json_object_set_new(o, "chain_name", json_string(g->chain_name));
    json_object_set_new(o, "chain_id", cli_hex_json(g->hash, 32));
    json_object_set_new(o, "height", cli_u64_json(dsuit_ledger_height(l)));
    json_object_set_new(o, "tip", cli_hex_json(hash, 32));
    json_object_set_new(o, "state_root", cli_hex_json(root, 32));
    json_object_set_new(o, "manifest_log_size",
                        cli_u64_json(dsuit_ledger_mlog_size(l)));
    for (int i = 0; i < DSUIT_TBL_COUNT; i++) {
        uint64_t count = 0;
        int e = dsuit_store_count(t, (dsuit_table_t)i, &count);
        if (e != DSUIT_OK) {
            *err = e;
            json_decref(tables);
            json_decref(o);
            return NULL;
        }
        json_object_set_new(tables, dsuit_table_name((dsuit_table_t)i),
                            cli_u64_json(count));
    }
    json_object_set_new(o, "tables", tables);
    return o;
}

/* ---- show: printing text ------------------------------------------------ */

static void print_summary(const json_t *o)
{
    const char *key;
    json_t *v;
    printf("chain name: %s\n", jstr(o, "chain_name"));
    printf("chain id: %s\n", jstr(o, "chain_id"));
    printf("height: %" PRIu64 "\n", jint(o, "height"));
    printf("tip: %s\n", jstr(o, "tip"));
    printf("state root: %s\n", jstr(o, "state_root"));
    printf("manifest log size: %" PRIu64 "\n", jint(o, "manifest_log_size"));
    printf("tables:\n");
    json_object_foreach((json_t *)json_object_get(o, "tables"), key, v)
    {
        printf("  %s: %" PRIu64 "\n", key, (uint64_t)json_integer_value(v));
    }
}

static void print_blocks(const json_t *list)
{
    size_t i, j;
    json_t *b, *tx;
    printf("height hash time proposer txs results\n");
    json_array_foreach(list, i, b)
    {
        json_t *txs = json_object_get(b, "txs");
        printf("%" PRIu64 " %s %s ", jint(b, "height"), jstr(b, "hash"),
               jstr(b, "time_utc"));
        cli_print_text(jstr(b, "proposer_name"));
        printf(" %zu ", json_array_size(txs));
        if (json_array_size(txs) == 0)
            putchar('-');
        json_array_foreach(txs, j, tx)
        {
            printf("%s%s", j ? "," : "", jstr(tx, "result"));
        }
        putchar('\n');
    }
}

static void print_authors(const json_t *list)
{
    size_t i, j;
    json_t *a, *c;
    json_array_foreach(list, i, a)
    {
        json_t *classes = json_object_get(a, "class_ids");
        printf("author %s\n  name: ", jstr(a, "key_id"));
        cli_print_text(jstr(a, "name"));
        printf("\n  vendor id: %s\n  class ids: ", jstr(a, "vendor_id"));
        if (json_array_size(classes) == 0)
            printf("any");
        json_array_foreach(classes, j, c)
        {
            printf("%s%s", j ? " " : "", json_string_value(c));
        }
        printf("\n  status: %s\n  height: %" PRIu64 "\n", jstr(a, "status"),
               jint(a, "height"));
    }
}

static void print_manifests(const json_t *list)
{
    size_t i, j;
    json_t *m, *img;
    json_array_foreach(list, i, m)
    {
        printf("manifest %s\n", jstr(m, "digest"));
        printf("  vendor id: %s\n", jstr(m, "vendor_id"));
        printf("  class id: %s\n", jstr(m, "class_id"));
        printf("  sequence number: %" PRIu64 "\n", jint(m, "sequence_number"));
        printf("  height: %" PRIu64 "\n", jint(m, "height"));
        printf("  leaf index: %" PRIu64 "\n", jint(m, "leaf_index"));
        printf("  author key id: %s\n", jstr(m, "author_key_id"));
        json_array_foreach(json_object_get(m, "images"), j, img)
        {
            printf("  image %s size %" PRIu64 " chunks %" PRIu64 "\n",
                   jstr(img, "digest"), jint(img, "size"), jint(img, "chunks"));
        }
    }
}

static void print_devices(const json_t *list)
{
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        printf("device %s\n", jstr(d, "device_id"));
        printf("  vendor id: %s\n", jstr(d, "vendor_id"));
        printf("  class id: %s\n", jstr(d, "class_id"));
        printf("  key id: %s\n", jstr(d, "key_id"));
        printf("  height: %" PRIu64 "\n", jint(d, "height"));
    }
}

/* ---- show --------------------------------------------------------------- */

typedef enum { V_SUMMARY, V_BLOCKS, V_AUTHORS, V_MANIFESTS, V_DEVICES } view_t;

static const char *const view_names[] = {"summary", "blocks", "authors",
                                         "manifests", "devices"};

static int ledger_show(int argc, char **argv)
{
    const char *dir = NULL, *view_name = "summary";
    view_t view = V_SUMMARY;
    dsuit_ledger_t *l = NULL;
    dsuit_store_txn_t *t = NULL;
    walk_t w;
    json_t *out = NULL, *list;
    int c, json = 0, have_range = 0, err = DSUIT_OK, rc;
    uint64_t from = 0, to = UINT64_MAX;

    memset(&w, 0, sizeof w);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", show_longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DATA:
            dir = optarg;
            break;
        case OPT_FROM:
            if (cli_parse_u64(optarg, &from) != 0)
                return cli_usage_error(CMD_SHOW,
                                       "option '--from' needs a height, not "
                                       "'%s'",
                                       optarg);
            have_range = 1;
            break;
        case 'h':
            fputs(show_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_JSON:
            json = 1;
            break;
        case OPT_TO:
            if (cli_parse_u64(optarg, &to) != 0)
                return cli_usage_error(CMD_SHOW,
                                       "option '--to' needs a height, not "
                                       "'%s'",
                                       optarg);
            have_range = 1;
            break;
        default:
            return cli_getopt_error(CMD_SHOW, c, argv, show_longopts);
        }
    }
    if (argc - optind > 1)
        return cli_usage_error(CMD_SHOW, "unexpected argument '%s'",
                               argv[optind + 1]);
    if (optind < argc) {
        size_t i;
        view_name = argv[optind];
        for (i = 0; i < sizeof view_names / sizeof view_names[0]; i++)
            if (strcmp(view_names[i], view_name) == 0)
                break;
        if (i == sizeof view_names / sizeof view_names[0])
            return cli_usage_error(CMD_SHOW,
                                   "unknown view '%s': use summary, blocks, "
                                   "authors, manifests or devices",
                                   view_name);
        view = (view_t)i;
    }
    if (dir == NULL)
        return cli_usage_error(CMD_SHOW, "missing option '--data'");
    if (dir[0] == '\0')
        return cli_usage_error(CMD_SHOW, "empty folder name for '--data'");
    if (have_range && view == V_SUMMARY)
        return cli_usage_error(CMD_SHOW, "'--from' and '--to' need a view: "
                                         "blocks, authors, manifests or "
                                         "devices");
    if (from > to)
        return cli_usage_error(CMD_SHOW,
                               "'--from' %" PRIu64 " is after '--to' %" PRIu64,
                               from, to);

    rc = open_ledger(CMD_SHOW, dir, &l);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    rc = DSUIT_EXIT_FAIL;
    err = dsuit_store_begin(dsuit_ledger_store(l), 0, &t);
    if (err != DSUIT_OK) {
        cli_error_subject(CMD_SHOW, "cannot read ledger", dir,
                          dsuit_strerror(err));
        goto out;
    }
    w.g = dsuit_ledger_genesis(l);
    w.txn = t;
    w.from = from;
    w.to = to;
    w.list = json_array();
    switch (view) {
    case V_SUMMARY:
        out = summary_json(l, t, &w.err);
        break;
    case V_BLOCKS:
        err = dsuit_store_foreach(t, DSUIT_TBL_BLOCKS, visit_block, &w);
        break;
    case V_AUTHORS:
        err = dsuit_store_foreach(t, DSUIT_TBL_AUTHORS, visit_author, &w);
        break;
    case V_MANIFESTS:
        err = dsuit_store_foreach(t, DSUIT_TBL_MLOG, visit_leaf, &w);
        break;
    case V_DEVICES:
        err = dsuit_store_foreach(t, DSUIT_TBL_DEVICES, visit_device, &w);
        break;
    }
    /* Everything shown is in JSON values now: the borrowed bytes may go. */
    dsuit_store_abort(t);
    t = NULL;
    if (view != V_SUMMARY && err != DSUIT_OK && err != WALK_STOP &&
        w.err == DSUIT_OK)
        w.err = err;
    if (w.err != DSUIT_OK) {
        char reason[160];
        if (w.err == DSUIT_E_INVAL && view == V_BLOCKS)
            snprintf(reason, sizeof reason, "block %" PRIu64 " is malformed",
                     w.bad);
        else if (w.err == DSUIT_E_INVAL)
            snprintf(reason, sizeof reason, "a record of the %s is malformed",
                     view_name);
        else
            snprintf(reason, sizeof reason, "%s", dsuit_strerror(w.err));
        if (w.err == DSUIT_E_INVAL) {
            cli_error_subject(CMD_SHOW, "rejected", dir, reason);
            rc = DSUIT_EXIT_REJECT;
        } else {
            cli_error_subject(CMD_SHOW, "cannot read ledger", dir, reason);
        }
        goto out;
    }
    if (view == V_AUTHORS || view == V_DEVICES) {
        list = sorted_by_height(w.list);
        if (list == NULL) {
            cli_error(CMD_SHOW, "out of memory");
            goto out;
        }
        json_decref(w.list);
        w.list = list;
    }
    if (view != V_SUMMARY) {
        out = json_object();
        json_object_set(out, view_name, w.list);
    }
    if (out == NULL) {
        cli_error(CMD_SHOW, "out of memory");
        goto out;
    }
    if (json) {
        cli_print_json(out);
    } else {
        switch (view) {
        case V_SUMMARY:
            print_summary(out);
            break;
        case V_BLOCKS:
            print_blocks(w.list);
            break;
        case V_AUTHORS:
            print_authors(w.list);
            break;
        case V_MANIFESTS:
            print_manifests(w.list);
            break;
        case V_DEVICES:
            print_devices(w.list);
            break;
        }
    }
    rc = DSUIT_EXIT_OK;
out:
    dsuit_store_abort(t);
    json_decref(out);
    json_decref(w.list);
    dsuit_ledger_close(l);
    return rc;
}

/* ---- dispatch ----------------------------------------------------------- */

static const cli_verb_t verbs[] = {
    {"verify", ledger_verify},
    {"show", ledger_show},
};

int cmd_ledger(int argc, char **argv)
{
    return cli_run_verb("ledger", usage, "missing verb (try 'show')", 1, verbs,
                        sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
