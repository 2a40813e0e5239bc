#!/bin/sh
# Install Debian packages for the commands that are missing.
# Usage: ensure-packages.sh COMMAND:PACKAGE ...   (e.g. qemu-img:qemu-utils)
set -e
missing=""
for pair in "$@"; do
    cmd=${pair%%:*}
    pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "installing Debian packages:$missing" >&2
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "error: cannot install$missing without root; run: apt-get install$missing" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: no apt-get here; install$missing with your package manager" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || { echo "error: ${pair%%:*} still missing" >&2; exit 1; }
done
