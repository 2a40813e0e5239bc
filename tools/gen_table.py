"""Generate (``--write-table``) or check (``--check``) the bundled command
table ``qmpshell/schema/data/commands.json`` from the bundled spec copy.

Runs at build time only (``make table``); the wheel ships the table, not this.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from qmpshell.errors import SchemaError
from qmpshell.schema.spec import read_spec, render_table

DATA = Path(__file__).resolve().parent.parent / "qmpshell" / "schema" / "data"
BUNDLED_SPEC = DATA / "qmp-commands.hx.blame.txt"
BUNDLED_TABLE = DATA / "commands.json"


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the bundled table (--write-table) or verify it (--check)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python tools/gen_table.py", description="Generate or check the bundled command table."
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write-table", action="store_true", help="write the table")
    action.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    parser.add_argument("--spec", type=Path, default=BUNDLED_SPEC, help="spec file to read")
    parser.add_argument("--out", type=Path, default=BUNDLED_TABLE, help="table file")
    args = parser.parse_args(argv)
    try:
        text = args.spec.read_text(encoding="utf-8")
        wanted = render_table(read_spec(text), args.spec.name)
    except OSError as err:
        print(f"{args.spec}: error: {err.strerror}", file=sys.stderr)
        return 2
    except SchemaError as err:
        print(f"{args.spec}: error: {err}", file=sys.stderr)
        return 2
    if args.write_table:
        args.out.write_text(wanted, encoding="utf-8")
        return 0
    try:
        current = args.out.read_text(encoding="utf-8")
    except OSError as err:
        print(f"{args.out}: error: {err.strerror}", file=sys.stderr)
        return 1
    if current != wanted:
        print(
            f"{args.out}: out of date with {args.spec}; regenerate it with `make table`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
