#!/usr/bin/env bash
# The device library must never allocate. Inspect the undefined symbols of
# every object file in the given static library (libdsuit_device.a) and fail
# if any references the malloc family. The host crypto backend reaches
# OpenSSL, which allocates inside itself; that is OpenSSL's memory, not ours,
# and the Cortex-M build excludes the backend.
set -euo pipefail
lib=${1:?usage: check-no-malloc.sh LIBRARY.a}
bad=$(nm -A --undefined-only "$lib" 2>/dev/null |
      grep -Ew '(malloc|calloc|realloc|free|reallocarray|aligned_alloc|posix_memalign|strdup|strndup)$' || true)
if [ -n "$bad" ]; then
    echo "check-no-malloc: the device library references the malloc family:" >&2
    echo "$bad" >&2
    exit 1
fi
count=$(ar t "$lib" | wc -l)
echo "check-no-malloc: $count object files, no malloc/calloc/realloc/free"
