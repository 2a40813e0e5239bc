#!/bin/sh
# Open qmpshell on a throwaway QEMU (q35, TCG, no guest) with a 64 MiB
# qcow2 disk named "scratch" to play with. Everything is removed on exit.
set -e
QMPSHELL=${1:-qmpshell}
dir=$(mktemp -d "${TMPDIR:-/tmp}/qmpshell-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
qemu-img create -q -f qcow2 "$dir/scratch.qcow2" 64M
"$QMPSHELL" --spawn -- -machine q35,accel=tcg -nodefaults -display none \
    -drive if=none,id=scratch,file="$dir/scratch.qcow2",format=qcow2 \
    -device virtio-blk-pci,drive=scratch,id=scratch-dev
