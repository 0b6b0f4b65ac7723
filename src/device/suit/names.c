/*
 * Human-readable names of SUIT code points (draft-ietf-suit-manifest-37
 * §11) and of the processor's failure stages, for messages, `manifest show`
 * and reports. Constant tables only.
 */
#include <stddef.h>

#include "dsuit/suit.h"

typedef struct {
    int64_t code;
    const char *name;
} name_t;

static const name_t commands[] = {
    {DSUIT_SUIT_COND_VENDOR_ID, "condition-vendor-identifier"},
    {DSUIT_SUIT_COND_CLASS_ID, "condition-class-identifier"},
    {DSUIT_SUIT_COND_IMAGE_MATCH, "condition-image-match"},
    {DSUIT_SUIT_COND_COMPONENT_SLOT, "condition-component-slot"},
    {DSUIT_SUIT_COND_CHECK_CONTENT, "condition-check-content"},
    {DSUIT_SUIT_DIR_SET_COMPONENT_INDEX, "directive-set-component-index"},
    {DSUIT_SUIT_COND_ABORT, "condition-abort"},
    {DSUIT_SUIT_DIR_TRY_EACH, "directive-try-each"},
    {DSUIT_SUIT_DIR_WRITE, "directive-write"},
    {DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS, "directive-override-parameters"},
    {DSUIT_SUIT_DIR_FETCH, "directive-fetch"},
    {DSUIT_SUIT_DIR_COPY, "directive-copy"},
    {DSUIT_SUIT_DIR_INVOKE, "directive-invoke"},
    {DSUIT_SUIT_COND_DEVICE_ID, "condition-device-identifier"},
    {DSUIT_SUIT_DIR_SWAP, "directive-swap"},
    {DSUIT_SUIT_DIR_RUN_SEQUENCE, "directive-run-sequence"},
};

static const name_t parameters[] = {
    {DSUIT_SUIT_PARAM_VENDOR_ID, "vendor-id"},
    {DSUIT_SUIT_PARAM_CLASS_ID, "class-id"},
    {DSUIT_SUIT_PARAM_IMAGE_DIGEST, "image-digest"},
    {DSUIT_SUIT_PARAM_COMPONENT_SLOT, "component-slot"},
    {DSUIT_SUIT_PARAM_STRICT_ORDER, "strict-order"},
    {DSUIT_SUIT_PARAM_SOFT_FAILURE, "soft-failure"},
    {DSUIT_SUIT_PARAM_IMAGE_SIZE, "image-size"},
    {DSUIT_SUIT_PARAM_CONTENT, "content"},
    {DSUIT_SUIT_PARAM_URI, "uri"},
    {DSUIT_SUIT_PARAM_SOURCE_COMPONENT, "source-component"},
    {DSUIT_SUIT_PARAM_INVOKE_ARGS, "invoke-args"},
    {DSUIT_SUIT_PARAM_DEVICE_ID, "device-id"},
    {DSUIT_SUIT_PARAM_FETCH_ARGUMENTS, "fetch-arguments"},
};

static const name_t sections[] = {
    {DSUIT_SUIT_SECTION_SHARED, "shared-sequence"},
    {DSUIT_SUIT_VALIDATE, "validate"},
    {DSUIT_SUIT_LOAD, "load"},
    {DSUIT_SUIT_INVOKE, "invoke"},
    {DSUIT_SUIT_PAYLOAD_FETCH, "payload-fetch"},
    {DSUIT_SUIT_INSTALL, "install"},
    {DSUIT_SUIT_TEXT, "text"},
};

static const char *lookup(const name_t *t, size_t n, int64_t code)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].code == code)
            return t[i].name;
    }
    return NULL;
}

const char *dsuit_suit_command_name(int64_t code)
{
    return lookup(commands, sizeof commands / sizeof commands[0], code);
}

const char *dsuit_suit_parameter_name(int64_t code)
{
    return lookup(parameters, sizeof parameters / sizeof parameters[0], code);
}

const char *dsuit_suit_section_name(int64_t key)
{
    return lookup(sections, sizeof sections / sizeof sections[0], key);
}

const char *dsuit_suit_stage_name(dsuit_suit_stage_t stage)
{
    switch (stage) {
    case DSUIT_SUIT_STAGE_DECODE:
        return "decode";
    case DSUIT_SUIT_STAGE_AUTH:
        return "auth";
    case DSUIT_SUIT_STAGE_SETUP:
        return "setup";
    case DSUIT_SUIT_STAGE_SHARED:
        return "shared-sequence";
    case DSUIT_SUIT_STAGE_SEVERABLE:
        return "severable";
    case DSUIT_SUIT_STAGE_COMMAND:
        return "command";
    default:
        return "";
    }
}
