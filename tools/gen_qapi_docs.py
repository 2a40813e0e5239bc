"""Generate (``--write``) or check (``--check``) the bundled documentation
table ``qmpshell/schema/data/qapi-docs.json`` from QEMU's QAPI schema
sources (``qapi/*.json``): for each command and event its description,
``Since:``, what it returns, notes, examples, and each argument's text.

Help shows these words next to the types a live server reports.  Where to
get the QEMU source tree is in :mod:`tools.qapi_source`; ``make generate``
runs this when one is present.  Build time only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.qapi_source import (
    DATA,
    SourceMissing,
    dump,
    entity_doc,
    input_digest,
    members_docs,
    qemu_version,
    source_dir,
)

OUT = DATA / "qapi-docs.json"
FORMAT = 1


def docs_table(src: Path) -> dict[str, Any]:
    """The documentation table of the QEMU tree ``src``."""
    from tools.qapi_source import load_schema

    schema = load_schema(src, "qapi/qapi-schema.json")
    return table_from_schema(schema, qemu_version(src), input_digest(src, schema))


def table_from_schema(schema: Any, version: str, digest: str) -> dict[str, Any]:
    """Commands and events of a loaded ``QAPISchema``, with their docs."""
    commands: dict[str, Any] = {}
    events: dict[str, Any] = {}
    for entity in schema._entity_list:
        meta = type(entity).__name__
        if meta not in ("QAPISchemaCommand", "QAPISchemaEvent") or entity.doc is None:
            continue
        entry = entity_doc(entity.doc)
        args = members_docs(schema, entity.arg_type)
        if args:
            entry["args"] = args
        (commands if meta == "QAPISchemaCommand" else events)[entity.name] = entry
    return {
        "format": FORMAT,
        "qemu": version,
        "source": f"QEMU {version} qapi/*.json",
        "digest": digest,
        "commands": commands,
        "events": events,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Write the table (--write), or exit 1 if it is stale (--check)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m tools.gen_qapi_docs",
                                     description="Generate or check qapi-docs.json.")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="write the table")
    action.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    parser.add_argument("--source", help="QEMU source tree (default $QEMU_SRC or .qemu-src)")
    parser.add_argument("--out", type=Path, default=OUT, help="table file")
    args = parser.parse_args(argv)
    try:
        wanted = dump(docs_table(source_dir(args.source)))
    except SourceMissing as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.write:
        args.out.write_text(wanted, encoding="utf-8")
        return 0
    current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
    if current != wanted:
        print(f"{args.out}: out of date; regenerate it with `make generate`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
