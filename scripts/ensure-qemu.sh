#!/bin/sh
# Make sure qemu-system-x86_64 and qemu-img are present, installing Debian's
# packages when they are missing and we may install them.
set -e
if command -v qemu-system-x86_64 >/dev/null 2>&1 && command -v qemu-img >/dev/null 2>&1; then
    exit 0
fi
echo "qemu-system-x86_64 or qemu-img is missing: installing qemu-system-x86 and qemu-utils" >&2
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "error: cannot install QEMU without root; run: apt-get install qemu-system-x86 qemu-utils" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: no apt-get here; install QEMU (qemu-system-x86_64, qemu-img) with your package manager" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends qemu-system-x86 qemu-utils >/dev/null
command -v qemu-system-x86_64 >/dev/null 2>&1
