/*
 * The reference device of `dsuit device run` and `dsuit device once`
 * (src/cli/device_client.c): a simulated device that asks retrieval nodes
 * over CoAP/DTLS for the latest firmware, verifies it with the device
 * library and installs it into one of two slots. Page:
 * docs/cli/dsuit-device.md.
 */
#ifndef DSUIT_CLI_DEVICE_CLIENT_H
#define DSUIT_CLI_DEVICE_CLIENT_H

/**
 * `dsuit device run` (once == 0) or `dsuit device once` (once != 0), with
 * argv[0] the verb and getopt-style options after it. once exits 0 when
 * updated or current, 3 when what the nodes served was checked and
 * rejected, 1 when no node could be reached or had a manifest (and for
 * unreadable files, as every command); run exits 0 on SIGTERM or SIGINT.
 * Usage errors are 2.
 * @return a DSUIT_EXIT_* code
 */
int cli_device_client(int argc, char **argv, int once);

#endif /* DSUIT_CLI_DEVICE_CLIENT_H */
