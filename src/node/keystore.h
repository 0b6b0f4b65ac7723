/*
 * The node's device keystore: pre-shared keys of the devices this node's
 * operator provisioned (`dsuit device provision`), one per identity, each
 * scoped to one vendor and class. Node side.
 *
 * File DATA/device-keys, mode 0600, one device per line:
 *
 *     <identity> <vendor-id> <class-id> <key hex>
 *
 * identity: 1..64 bytes of [A-Za-z0-9._:@-]; vendor and class ids as
 * 8-4-4-4-12 UUIDs in lower-case hex; key: 16..64 bytes in lower-case hex;
 * fields separated by spaces or tabs; a line at most 511 bytes with its
 * newline. Lines starting with '#' (in the first column) and empty lines
 * are ignored; put rewrites the file with its own header, so comments
 * written by hand do not survive it. The file is replaced whole (temp file, fsync, rename)
 * under an flock on DATA/device-keys.lock, so a reader sees the old or the
 * new file, never half of one; the node re-reads it when it changes, so a
 * provisioned device can connect without a restart.
 */
#ifndef DSUIT_NODE_KEYSTORE_H
#define DSUIT_NODE_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NODE_PSK_ID_MAX   64
#define NODE_PSK_KEY_MIN  16
#define NODE_PSK_KEY_MAX  64
#define NODE_KEYSTORE_MAX 100000 /* devices per node */
#define NODE_KEYSTORE_FILE "device-keys"

typedef struct {
    char id[NODE_PSK_ID_MAX + 1];
    size_t id_len;
    uint8_t vendor[16], klass[16];
    uint8_t key[NODE_PSK_KEY_MAX];
    size_t key_len;
} node_psk_t;

/** Is this a valid identity (length and characters)? */
int node_psk_id_valid(const char *id, size_t len);

/**
 * Read a keystore file; entries sorted by identity. A missing file is an
 * empty keystore.
 * @param[out] out  malloc'd array (NULL when empty); free with
 *                  node_keystore_free()
 * Errors: DSUIT_E_IO (unreadable), DSUIT_E_INVAL (a malformed line, with
 * *bad_line set to its number; 0 for an identity given twice),
 * DSUIT_E_LIMIT, DSUIT_E_NOMEM.
 */
int node_keystore_load(const char *path, node_psk_t **out, size_t *n,
                       size_t *bad_line);

/** The same, from an open stream (not closed here). */
int node_keystore_read(FILE *f, node_psk_t **out, size_t *n,
                       size_t *bad_line);

/** Wipe and free what node_keystore_load() returned. */
void node_keystore_free(node_psk_t *v, size_t n);

/** The entry of an identity in a sorted keystore, or NULL. */
const node_psk_t *node_keystore_find(const node_psk_t *v, size_t n,
                                     const uint8_t *id, size_t id_len);

/**
 * Add a device to the keystore of the data folder dir, or replace the key
 * and scope of an identity already there. *replaced tells which.
 * Errors: DSUIT_E_INVAL (entry), DSUIT_E_IO, DSUIT_E_NOMEM, DSUIT_E_LIMIT,
 * and the load errors of an existing file.
 */
int node_keystore_put(const char *dir, const node_psk_t *e, int *replaced);

#endif /* DSUIT_NODE_KEYSTORE_H */
