#!/usr/bin/env bash
# Build the device library for a Cortex-M4 (gcc-arm-none-eabi, -Os, Thumb)
# and print .text/.data/.bss per module and in total. The host crypto
# backend (src/device/crypto/openssl.c) is left out: a device brings its own
# (mbedTLS, a hardware engine). This also proves the device library builds
# for a microcontroller with no host or node-side header: any slip fails
# the compile.
#
# usage: tools/size-arm.sh [OUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build-arm}
cc=${ARM_CC:-arm-none-eabi-gcc}
size=${ARM_SIZE:-arm-none-eabi-size}
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "size-arm: '$cc' not found: run scripts/install-deps (gcc-arm-none-eabi)" >&2
    exit 1
fi
flags=(-std=c11 -Os -mthumb -mcpu=cortex-m4 -mfloat-abi=soft
       -ffunction-sections -fdata-sections -Wall -Wextra -Werror
       -I"$root/include" -I"$root/src/device/suit")
mkdir -p "$out"
declare -A text data bss
modules=()
while IFS= read -r src; do
    rel=${src#"$root"/src/}
    case "$rel" in device/crypto/openssl.c) continue ;; esac
    mod=$(dirname "$rel")
    # The author-side builder is in the library but no device links it.
    case "$rel" in device/suit/build.c) mod="device/suit-build*" ;; esac
    obj="$out/${rel//\//_}.o"
    "$cc" "${flags[@]}" -c "$src" -o "$obj"
    read -r t d b _ < <("$size" "$obj" | tail -n 1)
    if [ -z "${text[$mod]+x}" ]; then
        modules+=("$mod"); text[$mod]=0; data[$mod]=0; bss[$mod]=0
    fi
    text[$mod]=$((text[$mod] + t)); data[$mod]=$((data[$mod] + d)); bss[$mod]=$((bss[$mod] + b))
done < <(find "$root/src/common" "$root/src/device" -name '*.c' | sort)
printf '%-20s %8s %8s %8s\n' module .text .data .bss
tt=0; td=0; tb=0
for m in "${modules[@]}"; do
    printf '%-20s %8d %8d %8d\n' "$m" "${text[$m]}" "${data[$m]}" "${bss[$m]}"
    tt=$((tt + text[$m])); td=$((td + data[$m])); tb=$((tb + bss[$m]))
done
printf '%-20s %8d %8d %8d\n' total "$tt" "$td" "$tb"
if [ -n "${text[device/suit-build*]+x}" ]; then
    printf '%-20s %8d\n' "device total" "$((tt - text[device/suit-build*]))"
    echo "* author-side manifest builder: in the library, not linked by a device"
fi
echo "size-arm: Cortex-M4, -Os -mthumb, crypto backend excluded ($("$cc" -dumpversion))"
