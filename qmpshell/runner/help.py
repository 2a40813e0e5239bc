"""Help texts: ``.help`` (the commands, grouped) and ``.help CMD`` / ``CMD ?``.

Pure functions from the schema to plain text, so the runner can print them
in scripts as well as at the prompt (nothing here imports prompt_toolkit).
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import TYPE_CHECKING, Any

from qmpshell.errors import ParseError, SchemaError
from qmpshell.schema.model import Command, Example, Member, Schema, feature_marks, suggest
from qmpshell.shorthand.dotcommands import DOT_COMMANDS, dot_command, dot_names

LIVE_TITLE = "Offered by the server only"

GROUPS: tuple[tuple[str, str], ...] = (
    ("regular", "Commands"),
    ("query", "Queries"),
    ("live", LIVE_TITLE),
)


def schema_origin(schema: Schema) -> str:
    """Who offers the commands of a server schema, as help names it: the
    connected server, the cached QEMU of a dry run, or a ``--schema`` file."""
    source = schema.source
    if not source or source.startswith("live"):
        return "the connected server"
    if source.startswith("cached QEMU "):
        return source.removeprefix("cached ")
    return f"the schema in {source}"

WIDTH = 78

if TYPE_CHECKING:  # the table is read only when help is shown
    from qmpshell.schema.docs import DocsTable, EntryDoc


def bundled_docs(schema: Schema | None = None) -> DocsTable | None:
    """The bundled documentation for ``schema`` (QEMU's, or the guest agent's
    for an agent's schema), read now (help is being shown); None if it cannot
    be read: help then shows what the schema knows."""
    from qmpshell.schema.agent import SOURCE, load_agent_table
    from qmpshell.schema.docs import load_docs

    try:
        if schema is not None and schema.source.startswith(SOURCE):
            return load_agent_table().docs
        return load_docs()
    except SchemaError:
        return None


def command_list(schema: Schema, docs: DocsTable | None = None) -> str:
    """Every command with its one-line title, grouped; deprecated ones marked."""
    by_group: dict[str, list[Command]] = {}
    for name in schema.command_names():
        cmd = schema.commands[name]
        group = cmd.group
        if group == "live" and docs is not None and docs.command(name) is not None:
            group = "query" if name.startswith("query-") else "regular"  # documented now
        by_group.setdefault(group, []).append(cmd)
    known = [g for g, _ in GROUPS]
    sections = [(title, by_group.get(g, [])) for g, title in GROUPS]
    sections += [(g, cmds) for g, cmds in sorted(by_group.items()) if g not in known]
    width = min(max((len(n) for n in schema.commands), default=10) + 2, 32)
    out: list[str] = []
    for title, cmds in sections:
        if not cmds:
            continue
        if title == LIVE_TITLE:
            title = f"Offered by {schema_origin(schema)} only"
        out.append(f"{title}:")
        for cmd in cmds:
            entry = docs.command(cmd.name) if docs is not None else None
            note = (_title(entry.description()) or first_line(entry.description()) if entry
                    else cmd.title or first_line(cmd.doc))
            marks = feature_marks(cmd.features)
            if marks:
                note = f"({', '.join(marks)}) {note}".rstrip()
            out.append(_fit(f"  {_pad(cmd.name, width)}{note}".rstrip()))
        out.append("")
    out.append("Shell commands:")
    for spec in DOT_COMMANDS:
        where = "" if spec.in_scripts else " (at the prompt)"
        out.append(_fit(f"  {spec.name:<12}{spec.summary}{where}"))  # '.help .NAME': whole
    out.append("")
    out.append("'.help CMD' or 'CMD ?' shows a command's arguments and an example.")
    out.append("'@NAME line', '@all line', '@GLOB line': a line on other VMs (.vms).")
    return "\n".join(out)


def command_help(schema: Schema, name: str, docs: DocsTable | None = None) -> str:
    """Title, documentation, arguments (type, required or not) and the
    examples as shorthand, for one command (or event).

    The types are the schema's (the server's, when connected); the words are
    the documentation table's when it knows the command, else the schema's.
    Raises :class:`ParseError` for a name that is no command."""
    spec = dot_command(name)
    if spec is not None:
        where = "" if spec.in_scripts else "\n(at the prompt only, not in scripts)"
        return f"{name}: {spec.summary}{where}"
    cmd = schema.command(name)
    if cmd is None and name in schema.events:
        return event_help(schema, name, docs)
    if cmd is None:
        close = suggest(name, [*schema.commands, *dot_names()])
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ParseError(f"unknown command: {name}{hint}")
    entry = docs.command(name) if docs is not None else None
    title = (_title(entry.description()) if entry else "") or cmd.title
    out = [cmd.name + (f" - {title}" if title else "")]
    notes = feature_marks(cmd.features)
    if cmd.group == "live" and entry is None:
        notes.append(f"offered by {schema_origin(schema)}; not in the bundled table")
    if cmd.targets:
        notes.append("only on " + ", ".join(cmd.targets))
    if notes:
        out.append("(" + "; ".join(notes) + ")")
    doc = _entry_text(entry, title) if entry else doc_body(cmd.doc, cmd.title)
    if doc:
        out += ["", textwrap.indent(doc, "  ")]
    out += ["", *arguments_text(schema, cmd, entry)]
    shown = entry.examples if entry and entry.examples else cmd.examples
    examples = [e for e in shown if e.direction == "->"]
    if examples:
        out += ["", "Example:" if len(examples) == 1 else "Examples:"]
        out += [f"  {example_line(e, schema)}" for e in examples]
    if entry is not None:
        out += ["", provenance(entry)]
    return "\n".join(out)


def event_help(schema: Schema, name: str, docs: DocsTable | None = None) -> str:
    """An event's description and the members of its data."""
    event = schema.events[name]
    entry = docs.event(name) if docs is not None else None
    out = [f"{name} (event)"]
    if entry is not None and entry.description():
        out += ["", textwrap.indent(_entry_text(entry, ""), "  ")]
    members = schema.members_for(event.args_type) if event.args_type else []
    if members:
        out += ["", "Data:", *_member_rows(schema, members, entry)]
    if entry is not None:
        out += ["", provenance(entry)]
    return "\n".join(out)


def provenance(entry: EntryDoc) -> str:
    """Since when QEMU has it, and which release the words come from."""
    since = f"Since QEMU {entry.since}. " if entry.since else ""
    return f"{since}Documentation from QEMU {entry.release}."


def _title(description: str) -> str:
    """The first sentence of a description, for the heading and the list."""
    paragraph = " ".join(description.strip().split("\n\n")[0].split())
    found = re.match(r"(.+?\.)(\s|$)", paragraph)
    title = found.group(1) if found else paragraph
    return title if len(title) <= 70 else ""


def _entry_text(entry: EntryDoc, title: str) -> str:
    """The description without the heading's sentence, then returns and notes."""
    text = entry.description()
    heading = re.match(r"(.+?\.)(\s|$)", text, re.DOTALL)
    if title and heading and " ".join(heading.group(1).split()) == title:
        text = text[heading.end():].lstrip()
    parts = [text.strip()]
    if entry.doc and entry.returns:
        returns = entry.returns
        parts.append(f"Returns: {returns}" if "\n" not in returns
                     else "Returns:\n" + textwrap.indent(returns, "  "))
    if entry.notes:
        parts.append(f"Note: {entry.notes}")
    return "\n\n".join(p for p in parts if p)


_SECTION = re.compile(r"^(?P<name>[A-Z][\w ]*):\s*$")
_SHOWN_ELSEWHERE = ("Arguments", "Example", "Examples")


def doc_body(doc: str, title: str) -> str:
    """The documentation without what help shows in its own way: the title
    paragraph, the spec's argument list and its JSON examples."""
    kept: list[str] = []
    skipping = False
    for line in doc.strip().splitlines():
        header = _SECTION.match(line)
        if header:
            skipping = header.group("name") in _SHOWN_ELSEWHERE
        if not skipping:
            kept.append(line)
    paragraphs = "\n".join(kept).strip().split("\n\n")
    if paragraphs and _words(paragraphs[0]) == _words(title):
        paragraphs = paragraphs[1:]
    return "\n\n".join(p.strip("\n") for p in paragraphs).strip()


def _words(text: str) -> list[str]:
    return text.split()


def _fit(line: str) -> str:
    return line if len(line) <= WIDTH else line[:WIDTH - 3] + "..."


def arguments_text(schema: Schema, cmd: Command, entry: EntryDoc | None = None) -> list[str]:
    """The argument table: name, type, required/optional, and its text: one
    line from the schema, or the documentation table's whole text below."""
    info = schema.arguments(cmd)
    members = schema.members_for(cmd.args_type)
    if not members:
        if info.open:
            return ["Arguments: any key=value options"]
        return ["Arguments: none"]
    out = ["Arguments:", *_member_rows(schema, members, entry), *_marked_values(schema, members)]
    if info.tag and info.variants:
        cases = ", ".join(v for v, _ in info.variants)
        out.append(textwrap.fill(f"more arguments depend on {info.tag}: {cases}", WIDTH,
                                 initial_indent="  ", subsequent_indent="    "))
    if info.open:
        out.append("  (other key=value options are passed through)")
    return out


def _member_rows(schema: Schema, members: list[Member], entry: EntryDoc | None) -> list[str]:
    """One row per member (required first); a documented member's text
    follows its row, wrapped and indented."""
    ordered = sorted(members, key=lambda m: m.optional)
    rows = [(m.name, schema.describe(m.type), _need(m)) for m in ordered]
    name_w = min(max(len(r[0]) for r in rows) + 2, 28)
    kind_w = min(max(len(r[1]) for r in rows) + 2, 40)
    need_w = max(len(r[2]) for r in rows) + 2
    out = []
    for member, (name, kind, need) in zip(ordered, rows, strict=True):
        text = entry.arg(member.name) if entry is not None else ""
        doc = "" if text else first_line(member.doc)
        out.append(f"  {_pad(name, name_w)}{_pad(kind, kind_w)}{_pad(need, need_w)}{doc}".rstrip())
        if text:
            out.append(textwrap.fill(" ".join(text.split()), WIDTH, initial_indent="      ",
                                     subsequent_indent="      "))
    return out


def _need(m: Member) -> str:
    return ", ".join(["optional" if m.optional else "required", *feature_marks(m.features)])


def _marked_values(schema: Schema, members: list[Member]) -> list[str]:
    """A line per argument whose enum has deprecated or unstable values."""
    out = []
    for m in members:
        info = schema.resolve(m.type)
        if info.kind == "array":
            info = schema.resolve(info.element)
        marked = [f"{value} ({', '.join(feature_marks(features))})"
                  for value, features in info.value_features if feature_marks(features)]
        if info.kind == "enum" and marked:
            out.append(textwrap.fill(f"{m.name} values: {', '.join(marked)}", WIDTH,
                                     initial_indent="  ", subsequent_indent="    "))
    return out


def _pad(text: str, width: int) -> str:
    return f"{text:<{width}}" if len(text) < width else f"{text}  "


def example_line(example: Example, schema: Schema | None = None) -> str:
    """A spec example request written as the user would type it."""
    request = example.json
    if not isinstance(request, dict) or "execute" not in request:
        return example.text or json.dumps(request)
    return request_to_shorthand(request, schema)


def request_to_shorthand(request: dict[str, Any], schema: Schema | None = None) -> str:
    """``{"execute": C, "arguments": {...}}`` as a shorthand line, using the
    shorthand module's writer so help and recordings agree."""
    from qmpshell.shorthand.parser import format_request

    try:
        return str(format_request(request, schema))
    except Exception:  # noqa: BLE001 - an example the writer cannot say stays JSON
        return json.dumps(request)


def first_line(doc: str) -> str:
    """The first line of a documentation text, cut to fit a menu."""
    for line in doc.strip().splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= 70 else line[:67] + "..."
    return ""
