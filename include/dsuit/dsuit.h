/*
 * dsuit: the Distributed SUIT Architecture (draft-lee-suit-distarch) in C.
 * Umbrella header: includes every public device-safe header and gives the
 * version. Node-side headers are included one by one where needed.
 */
#ifndef DSUIT_DSUIT_H
#define DSUIT_DSUIT_H

#define DSUIT_VERSION_MAJOR  0
#define DSUIT_VERSION_MINOR  1
#define DSUIT_VERSION_PATCH  0
#define DSUIT_VERSION_STRING "0.1.0"

#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"

#endif /* DSUIT_DSUIT_H */
