/*
 * Names and messages for dsuit error codes, generated from the one list in
 * include/dsuit/error.h so that enum, names and messages cannot drift apart.
 * Device-safe: constant tables only.
 */
#include "dsuit/error.h"

const char *dsuit_strerror(int err)
{
    switch (err) {
#define DSUIT__ERR_MSG(name, code, msg)                                        \
    case (code):                                                               \
        return (msg);
        DSUIT_ERRORS(DSUIT__ERR_MSG)
#undef DSUIT__ERR_MSG
    }
    return "unknown error";
}

const char *dsuit_err_name(int err)
{
    switch (err) {
#define DSUIT__ERR_NAME(name, code, msg)                                       \
    case (code):                                                               \
        return "DSUIT_" #name;
        DSUIT_ERRORS(DSUIT__ERR_NAME)
#undef DSUIT__ERR_NAME
    }
    return "DSUIT_E_UNKNOWN";
}
