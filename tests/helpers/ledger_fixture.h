/*
 * Test helpers for the ledger: a chain with 4 validators ("node-a" to
 * "node-d" on 127.0.0.1) and 3 registrars (threshold 2), and builders for
 * the transactions tests commit to it (register-author, publish with a
 * signed SUIT envelope for lfx_vendor / lfx_class). Used by
 * tests/ledger/test_ledger.c, tests/ledger/test_ledger_cli_fixture.c and,
 * for envelopes, test_ledger_property.c and test_ledger_crash.c.
 *
 * Every function but lfx_build_envelope() fails the running cmocka test
 * (fail_msg, assert_*) on any error, so call them only from inside a test
 * or a setup function.
 */
#ifndef DSUIT_TEST_LEDGER_FIXTURE_H
#define DSUIT_TEST_LEDGER_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"
#include "dsuit/ledger.h"

#define LFX_N_VAL 4
#define LFX_N_REG 3

/* The vendor and class id of every envelope lfx_make_envelope() builds. */
extern const uint8_t lfx_vendor[16];
extern const uint8_t lfx_class[16];

/*
 * A ledger under test. Invariants after lfx_create(): genesis holds the
 * encoded genesis whose SHA-256 is chain; l is open on dir (NULL while a
 * test has closed it); now is the time of the last block in ms.
 */
typedef struct {
    char dir[512];
    dsuit_key_t val[LFX_N_VAL], reg[LFX_N_REG];
    uint8_t genesis[8192];
    size_t genesis_len;
    uint8_t chain[32];
    dsuit_ledger_t *l;
    uint64_t nonce;
    uint64_t now;
} lfx_t;

/**
 * Make the genesis (chain "test-chain", time 1700000000) and open a new
 * ledger in f->dir, which must exist. Everything but dir is set here.
 * @param[in] deterministic  0: fresh random keys (validators alternate
 *            P-256 and Ed25519, registrars P-256); 1: Ed25519 keys from
 *            fixed seeds, so the same transactions give the same blocks,
 *            hashes and roots on every run
 */
void lfx_create(lfx_t *f, int deterministic);

/** (Re)open the ledger in f->dir with f->genesis into f->l (no fsync). */
void lfx_open(lfx_t *f);

/** An Ed25519 private key whose 32-byte seed is `seed` repeated. */
void lfx_key_from_seed(uint8_t seed, dsuit_key_t *out);

/**
 * Propose a block of n transactions with validator 0 at f->now + 1000 ms,
 * apply it, and write each transaction's result code into results[0..n).
 */
void lfx_commit(lfx_t *f, const uint8_t *const *txs, const size_t *lens,
                size_t n, uint64_t *results);

/** lfx_commit() of one transaction; returns its result code. */
uint64_t lfx_commit1(lfx_t *f, const uint8_t *tx, size_t len);

/**
 * A register-author transaction for `author` ("acme firmware team",
 * lfx_vendor, the given classes) signed by signers[0..n_signers).
 * @return its length in out[0..cap)
 */
size_t lfx_tx_register_author(lfx_t *f, const dsuit_key_t *author,
                              const dsuit_key_t *signers, size_t n_signers,
                              const uint8_t (*classes)[16], size_t n_classes,
                              uint8_t *out, size_t cap);

/**
 * Build a signed SUIT envelope with one component (id: the one byte
 * `component`) for vendor / class_id whose image has this digest and
 * size, sequence number seq, signed by signer (ES256 or EdDSA by the key's
 * type). Unlike the other lfx_ functions it asserts nothing, so a forked
 * child may call it.
 * @param[out] out_len  the envelope's length in out[0..cap)
 * @return DSUIT_OK, or the first error of encoding or signing
 */
int lfx_build_envelope(const dsuit_key_t *signer, uint64_t seq,
                       uint8_t component, const uint8_t vendor[16],
                       const uint8_t class_id[16], const uint8_t digest[32],
                       uint64_t size, uint8_t *out, size_t cap,
                       size_t *out_len);

/**
 * A SUIT envelope for lfx_vendor / lfx_class with one component whose
 * image has this digest and size, sequence number seq, signed by author
 * (ES256 or EdDSA by the key's type). @return its length in out[0..cap)
 */
size_t lfx_make_envelope(const dsuit_key_t *author, uint64_t seq,
                         const uint8_t digest[32], uint64_t size, uint8_t *out,
                         size_t cap);

/**
 * A publish of lfx_make_envelope(author, seq, digest, size) where every
 * byte of the digest is seq's low byte, with chunk size 262144 and made-up
 * chunk digests (at most 8 chunks). @return its length in out[0..cap)
 */
size_t lfx_tx_publish(lfx_t *f, const dsuit_key_t *author, uint64_t seq,
                      uint64_t size, uint8_t *out, size_t cap);

#endif /* DSUIT_TEST_LEDGER_FIXTURE_H */
