/*
 * Name-based UUIDv5 (RFC 9562 §5.5) and the UUID text form, for deriving
 * SUIT vendor and class identifiers (draft-ietf-suit-manifest-37
 * §8.4.8.2). Contracts in src/cli/cli_uuid.h. SHA-1 comes from OpenSSL's
 * EVP interface; it is used here only as RFC 9562 prescribes for naming,
 * never for integrity.
 */
#include <string.h>

#include <openssl/evp.h>

#include "cli/cli.h"
#include "cli/cli_uuid.h"

const uint8_t cli_uuid_ns_dns[CLI_UUID_LEN] = {
    0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
    0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

int cli_uuid5(const uint8_t ns[CLI_UUID_LEN], const char *name, size_t len,
              uint8_t out[CLI_UUID_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, ns, CLI_UUID_LEN) == 1 &&
             EVP_DigestUpdate(ctx, name, len) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len >= 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    memcpy(out, md, CLI_UUID_LEN);
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x50); /* version 5 */
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80); /* variant 10 */
    return 0;
}

int cli_uuid_parse(const char *s, uint8_t out[CLI_UUID_LEN])
{
    uint8_t u[CLI_UUID_LEN];
    size_t n = 0;

    if (strlen(s) != CLI_UUID_TEXT_LEN)
        return -1;
    for (size_t i = 0; i < CLI_UUID_TEXT_LEN;) {
        int hi, lo;
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -1;
            i++;
            continue;
        }
        hi = cli_hex_digit(s[i]);
        lo = cli_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        u[n++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    memcpy(out, u, CLI_UUID_LEN);
    return 0;
}

void cli_uuid_format(const uint8_t u[CLI_UUID_LEN],
                     char out[CLI_UUID_TEXT_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < CLI_UUID_LEN; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = digits[u[i] >> 4];
        out[o++] = digits[u[i] & 0x0f];
    }
    out[o] = '\0';
}
