/*
 * General node role (draft-lee-suit-distarch §4): before a validator signs
 * a block that publishes firmware, it checks the firmware itself. For each
 * image an applied publish names, it fetches the chunks it does not hold
 * from their holders, checks every chunk against its digest and the whole
 * image against the manifest's image digest, and keeps the chunks placed
 * on it. Only then does it vote, so a certified manifest always has an
 * available image that matches it.
 *
 * The checks can take a while (a 100 MiB image is 400 chunk fetches), so a
 * checker thread does them: the loop queues a block (node_check_block), the
 * checker answers, and the loop votes for blocks whose images check out
 * (node_checks_drain). A block whose images do not check out gets no vote
 * from this node, and the event is logged; the others certify it or not
 * by themselves.
 */
#define _DEFAULT_SOURCE /* usleep */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dsuit/tx.h"
#include "node/node_int.h"

static void free_check(node_check_t *c)
{
    for (size_t i = 0; i < c->n_images; i++)
        free(c->images[i].chunks);
    free(c->images);
    free(c);
}

/* Check one image: every chunk, then the whole. */
static int check_image(dsuit_node_t *n, const node_image_t *img)
{
    dsuit_sha256_ctx_t h;
    uint8_t got[32];
    uint64_t total = 0;
    dsuit_sha256_init(&h);
    for (size_t i = 0; i < img->n_chunks; i++) {
        uint8_t *c;
        size_t cl;
        int rc = node_chunk_fetch(n, img->chunks[i], img->chunk_size, &c, &cl);
        if (rc != DSUIT_OK)
            return rc;
        dsuit_sha256_update(&h, c, cl);
        total += cl;
        free(c);
    }
    dsuit_sha256_final(&h, got);
    if (total != img->size || !dsuit_ct_equal(got, img->digest, 32))
        return DSUIT_E_DIGEST;
    return DSUIT_OK;
}

static void *checker_main(void *arg)
{
    dsuit_node_t *n = arg;
    for (;;) {
        node_check_t *c;
        pthread_mutex_lock(&n->mu);
        while (n->to_check == NULL && !n->checker_stop)
            pthread_cond_wait(&n->check_cv, &n->mu);
        if (n->checker_stop) {
            pthread_mutex_unlock(&n->mu);
            break;
        }
        c = n->to_check;
        n->to_check = c->next;
        pthread_mutex_unlock(&n->mu);

        c->ok = 1;
        for (size_t i = 0; i < c->n_images && c->ok; i++) {
            /* A holder may still be receiving: try a few times. */
            int rc = DSUIT_E_NOTFOUND;
            for (int attempt = 0; attempt < 10 && rc != DSUIT_OK; attempt++) {
                rc = check_image(n, &c->images[i]);
                if (rc != DSUIT_OK)
                    usleep(200 * 1000);
                if (n->checker_stop)
                    break;
            }
            if (rc != DSUIT_OK) {
                char hex[65];
                node_hex(c->images[i].digest, 32, hex);
                node_log(n, "error", "validate",
                         "image does not check out, no vote height=%llu "
                         "image=%.16s reason=\"%s\"",
                         (unsigned long long)c->height, hex,
                         dsuit_strerror(rc));
                c->ok = 0;
            }
        }
        if (c->ok && c->n_images > 0)
            node_log(n, "info", "validate",
                     "images check out height=%llu images=%zu",
                     (unsigned long long)c->height, c->n_images);
        pthread_mutex_lock(&n->mu);
        c->next = n->checked;
        n->checked = c;
        pthread_mutex_unlock(&n->mu);
        uv_async_send(&n->wake);
    }
    return NULL;
}

int node_checker_start(dsuit_node_t *n)
{
    return pthread_create(&n->checker, NULL, checker_main, n) == 0
               ? DSUIT_OK
               : DSUIT_E_NOMEM;
}

void node_checker_stop(dsuit_node_t *n)
{
    pthread_mutex_lock(&n->mu);
    n->checker_stop = 1;
    pthread_cond_signal(&n->check_cv);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->checker, NULL);
    while (n->to_check) {
        node_check_t *c = n->to_check;
        n->to_check = c->next;
        free_check(c);
    }
    while (n->checked) {
        node_check_t *c = n->checked;
        n->checked = c->next;
        free_check(c);
    }
}

int node_check_block(dsuit_node_t *n, const dsuit_block_t *b)
{
    dsuit_block_iter_t it;
    const uint8_t *tx;
    size_t len;
    uint64_t result;
    node_check_t *c = calloc(1, sizeof *c);
    size_t cap = 0;

    if (c == NULL)
        return 0; /* cannot check: vote as for any block */
    c->height = b->header.height;
    memcpy(c->hash, b->hash, 32);
    dsuit_block_iter_init(&it, b);
    while (dsuit_block_next_tx(&it, &tx, &len, &result) == DSUIT_OK) {
        dsuit_tx_t t;
        if (result != DSUIT_TXR_OK || dsuit_tx_decode(tx, len, &t) != DSUIT_OK ||
            t.type != DSUIT_TX_PUBLISH)
            continue;
        for (size_t i = 0; i < t.u.publish.n_images; i++) {
            const dsuit_tx_image_t *im = &t.u.publish.images[i];
            node_image_t *img;
            if (c->n_images == cap) {
                size_t nc = cap ? 2 * cap : 4;
                node_image_t *p = realloc(c->images, nc * sizeof *p);
                if (p == NULL)
                    goto fail;
                c->images = p;
                cap = nc;
            }
            img = &c->images[c->n_images];
            memset(img, 0, sizeof *img);
            memcpy(img->digest, im->digest, 32);
            img->size = im->size;
            img->chunk_size = im->chunk_size;
            img->chunks = malloc(im->n_chunks * 32);
            if (img->chunks == NULL)
                goto fail;
            for (size_t k = 0; k < im->n_chunks; k++)
                memcpy(img->chunks[k], dsuit_tx_chunk(im, k), 32);
            img->n_chunks = im->n_chunks;
            c->n_images++;
        }
    }
    if (c->n_images == 0) {
        free_check(c);
        return 0;
    }
    pthread_mutex_lock(&n->mu);
    c->next = n->to_check;
    n->to_check = c;
    pthread_cond_signal(&n->check_cv);
    pthread_mutex_unlock(&n->mu);
    return 1;
fail:
    free_check(c);
    /* Out of memory: no vote rather than a vote for an unchecked image. */
    node_log(n, "error", "validate", "cannot queue an image check height=%llu",
             (unsigned long long)b->header.height);
    return 1;
}

void node_checks_drain(dsuit_node_t *n,
                       void (*vote)(dsuit_node_t *n, uint64_t height,
                                    const uint8_t hash[32]))
{
    node_check_t *list;
    pthread_mutex_lock(&n->mu);
    list = n->checked;
    n->checked = NULL;
    pthread_mutex_unlock(&n->mu);
    while (list) {
        node_check_t *c = list;
        list = c->next;
        if (c->ok)
            vote(n, c->height, c->hash);
        free_check(c);
    }
}
