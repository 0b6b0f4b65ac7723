/*
 * Tests of the CoAP/DTLS client (src/net/coap/client.h) that need no
 * server: the URI and credential checks of dsuit_coap_client_open() as a
 * table of (input, expected error), the argument checks of the requests,
 * and the bounds: a node that does not answer ends a request with
 * DSUIT_E_IO within the timeout, a stop flag ends it with DSUIT_E_AGAIN.
 * Transfers against a real server (block-wise, resume, Observe, PSK and
 * raw public keys) are in tests/cli/test_device_client.sh, against
 * coap-server-gnutls.
 *
 * Every wait is bounded by the client's timeout (at most 1 s here).
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsuit/error.h"
#include "net/coap/client.h"

static const uint8_t psk_key[16] = "0123456789abcdef";

static dsuit_coap_client_opts_t psk_opts(void)
{
    dsuit_coap_client_opts_t o;
    memset(&o, 0, sizeof(o));
    o.psk_identity = "device-1";
    o.psk_key = psk_key;
    o.psk_key_len = sizeof(psk_key);
    o.timeout_ms = 1000;
    return o;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A UDP port on 127.0.0.1 that nothing listens on (bound, then freed). */
static uint16_t dead_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static dsuit_coap_client_t *open_dead(const dsuit_coap_client_opts_t *o)
{
    char uri[64];
    dsuit_coap_client_t *c = NULL;
    snprintf(uri, sizeof(uri), "coaps://127.0.0.1:%u", dead_port());
    assert_int_equal(dsuit_coap_client_open(uri, o, &c), DSUIT_OK);
    assert_non_null(c);
    assert_string_equal(dsuit_coap_client_uri(c), uri);
    return c;
}

static int ignore_body(void *arg, uint64_t offset, const uint8_t *data,
                       size_t len, int last)
{
    (void)arg;
    (void)offset;
    (void)data;
    (void)len;
    (void)last;
    fail_msg("the body callback ran without a server");
    return DSUIT_OK;
}

static void coap_client_open_rejects_malformed_uris(void **state)
{
    static const struct {
        const char *uri;
        int err;
    } rows[] = {
        {"", DSUIT_E_INVAL},
        {"coap://127.0.0.1:5684", DSUIT_E_INVAL},
        {"https://127.0.0.1:5684", DSUIT_E_INVAL},
        {"coaps://", DSUIT_E_INVAL},
        {"coaps://127.0.0.1", DSUIT_E_INVAL},
        {"coaps://127.0.0.1:", DSUIT_E_INVAL},
        {"coaps://:5684", DSUIT_E_INVAL},
        {"coaps://127.0.0.1:0", DSUIT_E_INVAL},
        {"coaps://127.0.0.1:65536", DSUIT_E_INVAL},
        {"coaps://127.0.0.1:123456", DSUIT_E_INVAL},
        {"coaps://127.0.0.1:56a", DSUIT_E_INVAL},
        {"coaps://127.0.0.1:-1", DSUIT_E_INVAL},
        {"coaps://127.0.0.1:5684/fw", DSUIT_E_INVAL},
        {"coaps://127.0.0.1/fw:5684", DSUIT_E_INVAL},
        {"coaps://user@127.0.0.1:5684", DSUIT_E_INVAL},
        {"coaps://ho st:5684", DSUIT_E_INVAL},
        {"coaps://[::1]5684", DSUIT_E_INVAL},
        {"coaps://[::1:5684", DSUIT_E_INVAL},
        {"coaps://[]:5684", DSUIT_E_INVAL},
        {"coaps://no-such-host.invalid:5684", DSUIT_E_IO},
    };
    dsuit_coap_client_opts_t o = psk_opts();
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        dsuit_coap_client_t *c = (dsuit_coap_client_t *)&o; /* sentinel */
        int err = dsuit_coap_client_open(rows[i].uri, &o, &c);
        if (err != rows[i].err)
            fail_msg("'%s': got %s, want %s", rows[i].uri, dsuit_err_name(err),
                     dsuit_err_name(rows[i].err));
        /* Written only on success. */
        assert_ptr_equal(c, (dsuit_coap_client_t *)&o);
    }
    assert_int_equal(dsuit_coap_client_open(NULL, &o, NULL), DSUIT_E_INVAL);
}

static void coap_client_open_rejects_bad_credentials(void **state)
{
    static const uint8_t long_key[65] = {0};
    static const uint8_t pem[] = "-----BEGIN PRIVATE KEY-----\n";
    char long_id[130];
    dsuit_coap_client_opts_t rows[8];
    dsuit_coap_client_t *c = NULL;
    size_t n = 0;
    (void)state;

    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    memset(rows, 0, sizeof(rows));
    n++;                  /* neither PSK nor RPK */
    rows[n] = psk_opts(); /* both */
    rows[n].rpk_pem = pem;
    rows[n++].rpk_pem_len = sizeof(pem) - 1;
    rows[n] = psk_opts(); /* empty identity */
    rows[n++].psk_identity = "";
    rows[n] = psk_opts(); /* identity of 129 bytes */
    rows[n++].psk_identity = long_id;
    rows[n] = psk_opts(); /* no key */
    rows[n++].psk_key_len = 0;
    rows[n] = psk_opts(); /* key of 65 bytes */
    rows[n].psk_key = long_key;
    rows[n++].psk_key_len = sizeof(long_key);
    rows[n].rpk_pem = pem; /* RPK of length 0 */
    rows[n++].rpk_pem_len = 0;
    rows[n].rpk_pem = pem; /* public key of length 0 */
    rows[n].rpk_pem_len = sizeof(pem) - 1;
    rows[n].rpk_pub_pem = pem;
    rows[n++].rpk_pub_pem_len = 0;
    for (size_t i = 0; i < n; i++) {
        int err =
            dsuit_coap_client_open("coaps://127.0.0.1:5684", &rows[i], &c);
        if (err != DSUIT_E_INVAL)
            fail_msg("row %zu: got %s", i, dsuit_err_name(err));
        assert_null(c);
    }
    assert_int_equal(dsuit_coap_client_open("coaps://127.0.0.1:5684", NULL, &c),
                     DSUIT_E_INVAL);
}

static void coap_client_open_accepts_ipv4_and_ipv6_literals(void **state)
{
    static const char *const uris[] = {
        "coaps://127.0.0.1:5684", "coaps://localhost:65535", "coaps://[::1]:1"};
    dsuit_coap_client_opts_t o = psk_opts();
    (void)state;
    for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
        dsuit_coap_client_t *c = NULL;
        int err = dsuit_coap_client_open(uris[i], &o, &c);
        if (err != DSUIT_OK)
            fail_msg("'%s': %s", uris[i], dsuit_err_name(err));
        dsuit_coap_client_close(c);
    }
    dsuit_coap_client_close(NULL);
}

static void coap_client_requests_reject_bad_arguments(void **state)
{
    dsuit_coap_client_opts_t o = psk_opts();
    dsuit_coap_client_t *c = open_dead(&o);
    dsuit_coap_result_t r;
    static const char *const paths[] = {"", "fw/latest", "/", "/fw//latest",
                                        "/fw/latest/"};
    unsigned notified;
    (void)state;

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        int err = dsuit_coap_client_get(c, paths[i], 0, ignore_body, NULL, &r);
        if (err != DSUIT_E_INVAL)
            fail_msg("path '%s': got %s", paths[i], dsuit_err_name(err));
    }
    assert_int_equal(
        dsuit_coap_client_get(c, "/fw", 1000, ignore_body, NULL, &r),
        DSUIT_E_INVAL);
    assert_int_equal(dsuit_coap_client_get(c, "/fw", 0, NULL, NULL, &r),
                     DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_coap_client_get(c, "/fw", (uint64_t)DSUIT_COAP_BLOCK_SIZE << 20,
                              ignore_body, NULL, &r),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_coap_client_post(c, "/fw", DSUIT_COAP_CF_CBOR, NULL, 3, &r),
        DSUIT_E_INVAL);
    /* No observation yet. */
    assert_int_equal(dsuit_coap_client_wait(c, 10, &notified), DSUIT_E_IO);
    dsuit_coap_client_close(c);
}

static void coap_client_get_fails_with_io_within_the_timeout(void **state)
{
    dsuit_coap_client_opts_t o = psk_opts();
    dsuit_coap_client_t *c = open_dead(&o);
    dsuit_coap_result_t r;
    double t0 = mono_s(), took;
    (void)state;
    memset(&r, 0x5a, sizeof(r));
    assert_int_equal(
        dsuit_coap_client_get(c, "/fw/x", 0, ignore_body, NULL, &r),
        DSUIT_E_IO);
    took = mono_s() - t0;
    assert_true(took < 1.5);
    assert_int_equal(r.code, 0x5a5a5a5a); /* written only on success */
    assert_int_equal(dsuit_coap_client_observe(c, "/fw/x", &r), DSUIT_E_IO);
    dsuit_coap_client_close(c);
}

static void coap_client_stops_when_the_stop_flag_is_set(void **state)
{
    static volatile sig_atomic_t stop = 1;
    dsuit_coap_client_opts_t o = psk_opts();
    dsuit_coap_client_t *c;
    dsuit_coap_result_t r;
    (void)state;
    o.stop = &stop;
    c = open_dead(&o);
    assert_int_equal(
        dsuit_coap_client_get(c, "/fw/x", 0, ignore_body, NULL, &r),
        DSUIT_E_AGAIN);
    assert_int_equal(dsuit_coap_client_post(c, "/fw/report", DSUIT_COAP_CF_CBOR,
                                            (const uint8_t *)"\xa0", 1, &r),
                     DSUIT_E_AGAIN);
    dsuit_coap_client_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coap_client_open_rejects_malformed_uris),
        cmocka_unit_test(coap_client_open_rejects_bad_credentials),
        cmocka_unit_test(coap_client_open_accepts_ipv4_and_ipv6_literals),
        cmocka_unit_test(coap_client_requests_reject_bad_arguments),
        cmocka_unit_test(coap_client_get_fails_with_io_within_the_timeout),
        cmocka_unit_test(coap_client_stops_when_the_stop_flag_is_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
