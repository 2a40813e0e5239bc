"""The bundled command table, turned into a :class:`~qmpshell.schema.model.Schema`.

Start-up reads ``qmpshell/data/commands.json`` (generated from the spec by
``make table``) and never parses the spec itself.
Nothing is cached here: callers keep the schema they are given.  This module
imports only the standard library and the schema model, so loading the table
costs a JSON read and some small objects.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

from qmpshell.errors import SchemaError
from qmpshell.schema.model import Command, Example, Member, Schema, TypeInfo

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any

TABLE_FORMAT = 1
TABLE_NAME = "commands.json"


def load_bundled_schema() -> Schema:
    """The schema of the bundled table (the spec's 117 commands)."""
    try:
        data = json.loads(_table_text())
    except (OSError, ValueError) as err:
        raise SchemaError(f"bundled command table unreadable: {err}") from None
    return schema_from_table(data, source="bundled")


def table_identity() -> str:
    """Which bundled table this is, cheaply (its size and time, no read):
    what a schema cached merged with it records."""
    try:
        info = os.stat(_beside())
    except OSError:
        from qmpshell import __version__

        return f"{TABLE_FORMAT}:{__version__}"
    return f"{TABLE_FORMAT}:{info.st_size}:{info.st_mtime_ns}"


def _beside() -> str:
    """Where the table is when the package is plain files."""
    return os.path.join(os.path.dirname(__file__), "data", TABLE_NAME)


def _table_text() -> str:
    """The table next to this module; through importlib.resources only when
    the package is not plain files (a zip), since that import alone costs a
    noticeable part of the start-up."""
    beside = _beside()
    if os.path.isfile(beside):
        with open(beside, encoding="utf-8") as file:
            return file.read()
    from importlib import resources

    return (resources.files("qmpshell") / "data" / TABLE_NAME).read_text(encoding="utf-8")


def schema_from_spec_text(text: str, source: str) -> Schema:
    """The schema of a ``qmp-commands.hx`` given by the user (``--schema FILE``)."""
    from qmpshell.schema.spec import read_spec, table_data

    return schema_from_table(table_data(read_spec(text), source), source=source)


def schema_from_table(data: Mapping[str, Any], source: str) -> Schema:
    """Build the schema from table data (the parsed ``commands.json``)."""
    if data.get("format") != TABLE_FORMAT:
        raise SchemaError(
            f"{source}: command table format {data.get('format')!r}, expected {TABLE_FORMAT}"
        )
    schema = Schema(source=source)
    try:
        for entry in data["commands"]:
            command, types = _command(entry)
            schema.commands[command.name] = command
            for info in types:
                schema.types[info.name] = info
    except (KeyError, TypeError) as err:
        raise SchemaError(f"{source}: malformed command table ({err!r})") from None
    return schema


def _command(entry: Mapping[str, Any]) -> tuple[Command, list[TypeInfo]]:
    """One table entry -> the command and the types it introduces."""
    name = entry["name"]
    types: list[TypeInfo] = []
    members: list[Member] = []
    for arg in entry["arguments"]:
        if arg["type"] == "options":
            continue  # stands for the whole (open) arguments object
        members.append(
            Member(
                name=arg["name"],
                type=_type_name(name, arg["name"], arg["type"], types),
                optional=arg["optional"],
                doc=arg["doc"],
                hint=arg["hint"],
            )
        )
    if entry["open"]:
        members.extend(_option_keys(name, entry["documented"], types))
    args_type = TypeInfo(
        name=f"{name}.arguments", kind="object", members=tuple(members), open=entry["open"]
    )
    types.append(args_type)
    command = Command(
        name=name,
        args_type=args_type.name,
        doc=entry["doc"],
        title=entry["title"],
        group=entry["group"],
        targets=tuple(entry["targets"]),
        examples=tuple(_example(e) for e in entry["examples"]),
        code=entry["code"],
    )
    return command, types


def _option_keys(
    command: str, documented: Sequence[Mapping[str, Any]], types: list[TypeInfo]
) -> list[Member]:
    """The keys an open command documents (device_add's driver, id...), all left
    optional: the server, not the shell, decides what a driver requires."""
    return [
        Member(
            name=d["name"],
            type=_type_name(command, d["name"], d["type"], types),
            optional=True,
            doc=d["doc"],
        )
        for d in documented
    ]


def _type_name(command: str, arg: str, kind: str, types: list[TypeInfo]) -> str:
    """A builtin name as is; 'list' becomes a per-argument array of any."""
    if kind != "list":
        return kind
    info = TypeInfo(name=f"{command}.{arg}", kind="array", element="any")
    types.append(info)
    return info.name


def _example(e: Mapping[str, Any]) -> Example:
    valid = e.get("valid", True)
    return Example(
        line=e["line"],
        direction=e["direction"],
        json=e.get("json") if valid else None,
        text=e.get("text", ""),
        valid=valid,
    )
