#!/bin/sh
# Install the C toolchains and QEMU ltc2c uses, when missing (Debian/Ubuntu, as root or with sudo).
set -eu
need=""
check() { command -v "$1" >/dev/null 2>&1 || need="$need $2"; }
check cc gcc
check clang clang
check arm-none-eabi-gcc "gcc-arm-none-eabi libnewlib-arm-none-eabi"
check qemu-system-arm qemu-system-arm
check qemu-system-riscv32 qemu-system-misc
check riscv64-unknown-elf-gcc gcc-riscv64-unknown-elf
# clang's sanitizer runtime (ASan/UBSan) is a separate package
if command -v clang >/dev/null 2>&1; then
    echo 'int main(void){return 0;}' | clang -x c -fsanitize=address,undefined -o /dev/null - 2>/dev/null || need="$need libclang-rt-14-dev"
else
    need="$need libclang-rt-14-dev"
fi
[ -z "$need" ] && { echo "toolchains: all present"; exit 0; }
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
command -v apt-get >/dev/null 2>&1 || { echo "toolchains: missing:$need (install them with your package manager)" >&2; exit 1; }
echo "toolchains: installing$need"
$SUDO apt-get update -q
# --no-install-recommends: without it QEMU pulls in gigabytes of GUI packages
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $need
