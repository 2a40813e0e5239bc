"""The guest agent's commands: the bundled table, narrowed to one agent.

``qemu-ga`` has no ``query-qmp-schema``; ``data/qga-schema.json``
(generated from QEMU's ``qga/qapi-schema.json`` by ``tools/gen_qga_table.py``)
is what one would answer, with the documentation.  The agent's own
``guest-info`` then says which commands this agent has and which are
enabled: the schema keeps those, and remembers why the rest are refused.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qmpshell.errors import SchemaError
from qmpshell.schema.docs import DocsTable, docs_from_json
from qmpshell.schema.introspect import FREE_FORM, schema_from_qapi
from qmpshell.schema.model import Command, Schema

AGENT_FORMAT = 1
AGENT_NAME = "qga-schema.json"
SOURCE = "guest agent"


@dataclasses.dataclass(frozen=True)
class AgentTable:
    """The agent's schema and its documentation, from the bundled table."""

    schema: Schema
    docs: DocsTable


def load_agent_table(path: Path | None = None) -> AgentTable:
    """The bundled guest-agent table (or ``path``); SchemaError if unreadable."""
    try:
        text = path.read_text(encoding="utf-8") if path is not None else _bundled_text()
        data = json.loads(text)
    except (OSError, ValueError) as err:
        raise SchemaError(f"guest-agent table unreadable: {err}") from None
    if not isinstance(data, dict) or data.get("format") != AGENT_FORMAT:
        raise SchemaError(f"guest-agent table: not format {AGENT_FORMAT}")
    schema = schema_from_qapi(data.get("schema"), source=SOURCE)
    return AgentTable(schema=schema, docs=docs_from_json(data.get("docs")))


def narrow(schema: Schema, guest_info: Mapping[str, Any]) -> Schema:
    """The commands ``guest-info`` lists as enabled; every other command the
    table or the agent knows is :attr:`~Schema.unavailable`, with why."""
    listed = guest_info.get("supported_commands")
    if not isinstance(listed, list):
        return schema
    enabled: set[str] = set()
    refused: dict[str, str] = {}
    for item in listed:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item["name"]
        if item.get("enabled", True):
            enabled.add(name)
        else:
            refused[name] = f"Command {name} has been disabled in this guest agent"
    for name in schema.commands.keys() - enabled - refused.keys():
        refused[name] = f"the command {name} is not supported by this agent"
    kept = {n: c for n, c in schema.commands.items() if n in enabled}
    for name in enabled - kept.keys():  # newer than the table: any arguments
        kept[name] = Command(name=name, args_type=FREE_FORM, group="live")
    version = guest_info.get("version")
    source = f"{SOURCE} {version}" if isinstance(version, str) else SOURCE
    return schema.replace(commands=kept, source=source, unavailable=refused)


def _bundled_text() -> str:
    beside = Path(__file__).with_name("data") / AGENT_NAME
    if beside.is_file():
        return beside.read_text(encoding="utf-8")
    from importlib import resources

    return (resources.files("qmpshell.schema") / "data" / AGENT_NAME).read_text(encoding="utf-8")
