"""Entry point: parse the command line, wire the parts, map errors to exit codes."""

from __future__ import annotations

import sys

from qmpshell.options import build_parser, split_qemu_args


def main(argv: list[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    ours, qemu_args = split_qemu_args(args_in)
    parser = build_parser()
    args = parser.parse_args(ours)
    del args, qemu_args
    return 0
