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
    entity_doc,
    generator_main,
    input_digest,
    members_docs,
    qemu_version,
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
    return generator_main(argv, prog="tools.gen_qapi_docs", out=OUT, build=docs_table)


if __name__ == "__main__":
    raise SystemExit(main())
