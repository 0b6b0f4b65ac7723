/* Placeholder until the reference device lands (device_client.h). */
#include "cli/cli.h"
#include "cli/device_client.h"

int cli_device_client(int argc, char **argv, int once)
{
    (void)argc;
    (void)once;
    cli_error("device", "'%s' is not built yet", argv[0]);
    return DSUIT_EXIT_FAIL;
}
