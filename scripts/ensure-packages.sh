#!/bin/sh
# Install Debian packages for the commands (or files) that are missing.
# Usage: ensure-packages.sh WHAT:PACKAGE ...   (e.g. qemu-img:qemu-utils)
# WHAT is a command name, or an absolute path (a glob) the package installs.
set -e
present() {
    case "$1" in
        /*) for f in $1; do [ -e "$f" ] && return 0; done; return 1 ;;
        *) command -v "$1" >/dev/null 2>&1 ;;
    esac
}
missing=""
for pair in "$@"; do
    pkg=${pair#*:}
    present "${pair%%:*}" || missing="$missing $pkg"
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
    present "${pair%%:*}" || { echo "error: ${pair%%:*} still missing" >&2; exit 1; }
done
