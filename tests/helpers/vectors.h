/*
 * Test helpers for reading the official vectors and writing inputs as hex.
 *
 * The vectors live in the folder named by the DSUIT_VECTORS environment
 * variable (ctest sets it; see CMakeLists.txt), e.g. relpath
 * "suit/manifest-37/example0.cbor". A test must never pass because a vector
 * is missing, so each reader fails the running cmocka test (fail_msg) with
 * the path and the reason instead of returning quietly.
 *
 * Call these only from inside a cmocka test (fail_msg needs one running).
 */
#ifndef DSUIT_TEST_VECTORS_H
#define DSUIT_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

/**
 * Read $DSUIT_VECTORS/<relpath> into buf[0..cap).
 * @param[out] out_len  file size
 * @return 0. Fails the test if DSUIT_VECTORS is unset, the file is missing
 *         or unreadable, or it does not fit in cap bytes.
 */
int tv_read(const char *relpath, uint8_t *buf, size_t cap, size_t *out_len);

/**
 * As tv_read(), for text (PEM): buf is NUL-terminated, so the file must fit
 * in cap - 1 bytes; *out_len excludes the NUL.
 */
int tv_read_text(const char *relpath, char *buf, size_t cap, size_t *out_len);

/**
 * Decode hex into out[0..cap). Whitespace is skipped, so long constants can
 * be split over lines; either case is accepted.
 * @return the number of bytes written. Fails the test on a non-hex
 *         character, an odd digit count, or output longer than cap.
 */
size_t tv_hex(const char *hex, uint8_t *out, size_t cap);

#endif /* DSUIT_TEST_VECTORS_H */
