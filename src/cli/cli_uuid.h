/*
 * UUIDs for the dsuit command-line program (src/cli): name-based UUIDv5
 * (RFC 9562 §5.5) as draft-ietf-suit-manifest-37 §8.4.8.2 recommends for
 * vendor and class identifiers, and the 8-4-4-4-12 text form.
 *
 *   vendor-id = UUIDv5(DNS namespace 6ba7b810-9dad-11d1-80b4-00c04fd430c8,
 *                      vendor domain name)
 *   class-id  = UUIDv5(vendor-id, class-specific information)
 *
 * UUIDv5 needs SHA-1, which the device library does not offer (devices
 * only compare identifiers), so this lives in the CLI and uses OpenSSL.
 */
#ifndef DSUIT_CLI_UUID_H
#define DSUIT_CLI_UUID_H

#include <stddef.h>
#include <stdint.h>

#define CLI_UUID_LEN      16
#define CLI_UUID_TEXT_LEN 36 /* without the NUL */

/* The IANA namespace ID for DNS names (RFC 9562 §6.6). */
extern const uint8_t cli_uuid_ns_dns[CLI_UUID_LEN];

/**
 * UUIDv5 of name[0..len) in namespace ns: SHA-1(ns || name), version 5,
 * variant 10.
 * @return 0, or -1 if the hash failed (OpenSSL error).
 */
int cli_uuid5(const uint8_t ns[CLI_UUID_LEN], const char *name, size_t len,
              uint8_t out[CLI_UUID_LEN]);

/**
 * Parse the text form "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case).
 * @return 0, or -1 if s is not exactly that (out untouched).
 */
int cli_uuid_parse(const char *s, uint8_t out[CLI_UUID_LEN]);

/** Write the lower-case text form and a NUL into out. */
void cli_uuid_format(const uint8_t u[CLI_UUID_LEN],
                     char out[CLI_UUID_TEXT_LEN + 1]);

#endif /* DSUIT_CLI_UUID_H */
