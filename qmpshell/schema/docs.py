"""The bundled documentation table: QEMU's own words for its commands and events.

A live server says what it accepts (``query-qmp-schema``) but not what
anything means; the bundled spec is QEMU 2.3's and lacks about half of a
current QEMU's commands.  ``data/qapi-docs.json`` (generated from QEMU's
``qapi/*.json`` doc comments by ``tools/gen_qapi_docs.py``) holds each
command's and event's description, ``Since:``, return text, notes, examples
and each argument's text.  Help puts these words next to the server's types.

Read only when help is shown: start-up never pays for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qmpshell.errors import SchemaError
from qmpshell.schema.model import Example

DOCS_FORMAT = 1
DOCS_NAME = "qapi-docs.json"


@dataclass(frozen=True)
class EntryDoc:
    """The documentation of one command or event."""

    name: str
    doc: str = ""
    since: str = ""
    returns: str = ""
    notes: str = ""
    args: Mapping[str, str] = field(default_factory=dict)
    """Argument (or event member) name -> its text."""
    examples: tuple[Example, ...] = ()
    release: str = ""
    """The QEMU release the words come from, e.g. '7.2.0'."""

    def arg(self, name: str) -> str:
        """An argument's text; '-' and '_' spellings alike."""
        found = self.args.get(name)
        if found is None:
            found = self.args.get(name.replace("_", "-"), self.args.get(name.replace("-", "_")))
        return found or ""

    def description(self) -> str:
        """The description, or for the few QEMU left undescribed what it returns."""
        if self.doc:
            return self.doc
        return f"Returns: {self.returns}" if self.returns else ""


@dataclass(frozen=True)
class DocsTable:
    """Every documented command and event of one QEMU release."""

    release: str
    commands: Mapping[str, Mapping[str, Any]]
    events: Mapping[str, Mapping[str, Any]]

    def command(self, name: str) -> EntryDoc | None:
        return self._entry(self.commands, name)

    def event(self, name: str) -> EntryDoc | None:
        return self._entry(self.events, name)

    def _entry(self, table: Mapping[str, Mapping[str, Any]], name: str) -> EntryDoc | None:
        raw = table.get(name)
        if raw is None:
            return None
        return entry_from_json(name, raw, self.release)


def entry_from_json(name: str, raw: Mapping[str, Any], release: str) -> EntryDoc:
    """One entry of the table file as an :class:`EntryDoc`."""
    args = {str(k): str(v.get("doc", "")) for k, v in raw.get("args", {}).items()}
    examples = tuple(
        Example(line=0, direction=str(e.get("direction", "->")), json=e.get("json"),
                text=str(e.get("text", "")), valid="json" in e)
        for e in raw.get("examples", ()))
    return EntryDoc(name=name, doc=str(raw.get("doc", "")), since=str(raw.get("since", "")),
                    returns=str(raw.get("returns", "")), notes=str(raw.get("notes", "")),
                    args=args, examples=examples, release=release)


def load_docs(path: Path | None = None) -> DocsTable:
    """The bundled table (or ``path``); SchemaError when it is unreadable."""
    try:
        text = path.read_text(encoding="utf-8") if path is not None else _bundled_text()
        data = json.loads(text)
        return docs_from_json(data)
    except (OSError, ValueError) as err:
        raise SchemaError(f"documentation table unreadable: {err}") from None


def docs_from_json(data: object) -> DocsTable:
    """Check the table's shape and wrap it."""
    if not isinstance(data, dict) or data.get("format") != DOCS_FORMAT:
        raise SchemaError(f"documentation table: not format {DOCS_FORMAT}")
    commands, events = data.get("commands"), data.get("events")
    if not isinstance(commands, dict) or not isinstance(events, dict):
        raise SchemaError("documentation table: no commands or events")
    return DocsTable(release=str(data.get("qemu", "")), commands=commands, events=events)


def _bundled_text() -> str:
    beside = Path(__file__).with_name("data") / DOCS_NAME
    if beside.is_file():
        return beside.read_text(encoding="utf-8")
    from importlib import resources

    return (resources.files("qmpshell.schema") / "data" / DOCS_NAME).read_text(encoding="utf-8")
