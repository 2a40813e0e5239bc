"""Generate (``--write``) or check (``--check``) the guest-agent table
``qmpshell/schema/data/qga-schema.json`` from QEMU's ``qga/qapi-schema.json``.

The agent cannot describe itself (it has no ``query-qmp-schema``), so the
table is what a QEMU would answer to ``query-qmp-schema`` for the agent's
schema, read by QEMU's own introspection generator with the type names
left readable, plus the documentation of each command (as in
``qapi-docs.json``) and the build condition of the commands only some
guests have (``CONFIG_LINUX``...).  The shell loads it with the same code as
a live schema, then keeps what the agent's ``guest-info`` says is there.

Where to get the QEMU source tree is in :mod:`tools.qapi_source`;
``make generate`` runs this when one is present.  Build time only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.qapi_source import (
    DATA,
    condition,
    generator_main,
    input_digest,
    load_schema,
    qemu_version,
)

OUT = DATA / "qga-schema.json"
FORMAT = 1


def agent_table(src: Path) -> dict[str, Any]:
    """The guest-agent table of the QEMU tree ``src``."""
    from tools.gen_qapi_docs import table_from_schema

    schema = load_schema(src, "qga/qapi-schema.json")
    version = qemu_version(src)
    docs = table_from_schema(schema, version, "")
    for name, entry in docs["commands"].items():
        cond = condition(schema.lookup_entity(name).ifcond)
        if cond:
            entry["if"] = cond
    return {
        "format": FORMAT,
        "qemu": version,
        "source": f"QEMU {version} qga/qapi-schema.json",
        "digest": input_digest(src, schema),
        "schema": introspection(schema),
        "docs": {"format": docs["format"], "qemu": version, "commands": docs["commands"],
                 "events": docs["events"]},
    }


def introspection(schema: Any) -> list[dict[str, Any]]:
    """The schema as ``query-qmp-schema`` entries, type names unmasked."""
    from qapi.introspect import QAPISchemaGenIntrospectVisitor  # type: ignore[import-not-found]

    class Collect(QAPISchemaGenIntrospectVisitor):  # type: ignore[misc]
        """QEMU's generator, keeping the entries instead of writing C."""

        entries: list[dict[str, Any]] = []

        def visit_end(self) -> None:
            for typ in self._used_types:
                typ.visit(self)
            Collect.entries = [plain(tree) for tree in self._trees]

    visitor = Collect("qga-", unmask=True)
    schema.visit(visitor)
    return sorted(Collect.entries, key=lambda e: (e["meta-type"], e["name"]))


def plain(tree: Any) -> Any:
    """QEMU's annotated tree as plain JSON values (conditions dropped: the
    agent's ``guest-info`` says what a guest really has)."""
    value = getattr(tree, "value", tree)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Write the table (--write), or exit 1 if it is stale (--check)."""
    return generator_main(argv, prog="tools.gen_qga_table", out=OUT, build=agent_table)


if __name__ == "__main__":
    raise SystemExit(main())
