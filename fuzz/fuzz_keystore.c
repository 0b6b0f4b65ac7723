/*
 * libFuzzer harness for the node's device keystore file
 * (src/node/keystore.h): the input is the file, read through fmemopen()
 * by node_keystore_read().
 *
 * A keystore that loads must hold only entries the header allows (valid
 * identity, NUL-terminated; key of 16..64 bytes), sorted by identity with
 * no identity twice, each found by node_keystore_find(); a refusal must
 * name a line that exists. Then node_keystore_free(). Nothing may crash,
 * leak or read out of bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsuit/error.h"
#include "node/keystore.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    node_psk_t *v = NULL;
    size_t n = 0, bad = 0, lines = 1;
    FILE *f;
    int rc;

    (void)node_psk_id_valid((const char *)data, size);
    if (size == 0)
        return 0; /* fmemopen() refuses an empty buffer on older glibc */
    f = fmemopen((void *)data, size, "r");
    if (f == NULL)
        return 0;
    rc = node_keystore_read(f, &v, &n, &bad);
    fclose(f);
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (rc != DSUIT_OK) {
        CHECK(rc == DSUIT_E_INVAL || rc == DSUIT_E_LIMIT);
        CHECK(bad <= lines);
        return 0;
    }
    CHECK(n == 0 || v != NULL);
    CHECK(n <= lines);
    for (size_t i = 0; i < n; i++) {
        const node_psk_t *e = &v[i];
        CHECK(node_psk_id_valid(e->id, e->id_len));
        CHECK(e->id[e->id_len] == '\0');
        CHECK(e->key_len >= NODE_PSK_KEY_MIN && e->key_len <= NODE_PSK_KEY_MAX);
        if (i > 0) {
            const node_psk_t *p = &v[i - 1];
            size_t m = p->id_len < e->id_len ? p->id_len : e->id_len;
            int c = memcmp(p->id, e->id, m);
            CHECK(c < 0 || (c == 0 && p->id_len < e->id_len));
        }
        CHECK(node_keystore_find(v, n, (const uint8_t *)e->id, e->id_len) == e);
    }
    node_keystore_free(v, n);
    return 0;
}
