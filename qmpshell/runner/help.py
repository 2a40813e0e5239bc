"""Help texts: ``.help`` (the commands, grouped) and ``.help CMD`` / ``CMD ?``.

Pure functions from the schema to plain text, so the runner can print them
in scripts as well as at the prompt (nothing here imports prompt_toolkit).
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from qmpshell.errors import ParseError
from qmpshell.schema.model import Command, Example, Member, Schema, suggest

DOT_COMMANDS: dict[str, str] = {
    ".help": "list commands, or show one: .help CMD",
    ".wait": "wait for an event: .wait EVENT [timeout=S] [key=value...]; without "
             "timeout=, --timeout or else 60 s in scripts, until Ctrl-C at the prompt",
    ".sleep": "pause: .sleep SECONDS",
    ".echo": "print a line of text",
    ".hmp": "run one HMP command: .hmp LINE",
    ".quit": "leave the shell",
    ".connect": "reconnect, or connect elsewhere: .connect [ADDRESS]",
    ".pager": "long replies through a pager: .pager on|off",
    ".record": "append executed lines to a file: .record FILE|off",
    ".schema": "where the schema came from; save the server's: .schema [save FILE]",
}
"""Shell commands (never sent to QEMU), with what they do."""

GROUPS: tuple[tuple[str, str], ...] = (
    ("regular", "Commands"),
    ("query", "Queries"),
    ("live", "Offered by the connected server only"),
)

WIDTH = 78


def command_list(schema: Schema) -> str:
    """Every command with its one-line title, grouped; deprecated ones marked."""
    by_group: dict[str, list[Command]] = {}
    for name in schema.command_names():
        cmd = schema.commands[name]
        by_group.setdefault(cmd.group, []).append(cmd)
    known = [g for g, _ in GROUPS]
    sections = [(title, by_group.get(g, [])) for g, title in GROUPS]
    sections += [(g, cmds) for g, cmds in sorted(by_group.items()) if g not in known]
    width = min(max((len(n) for n in schema.commands), default=10) + 2, 32)
    out: list[str] = []
    for title, cmds in sections:
        if not cmds:
            continue
        out.append(f"{title}:")
        for cmd in cmds:
            note = cmd.title or first_line(cmd.doc)
            if cmd.deprecated:
                note = f"(deprecated) {note}".rstrip()
            out.append(_fit(f"  {_pad(cmd.name, width)}{note}".rstrip()))
        out.append("")
    out.append("Shell commands:")
    for name, doc in DOT_COMMANDS.items():
        out.append(_fit(f"  {name:<11}{doc}"))  # '.help .NAME' shows it whole
    out.append("")
    out.append("'.help CMD' or 'CMD ?' shows a command's arguments and an example.")
    return "\n".join(out)


def command_help(schema: Schema, name: str) -> str:
    """Title, documentation, arguments (type, required or not) and the spec's
    examples as shorthand, for one command.

    Raises :class:`ParseError` for a name that is no command."""
    if name in DOT_COMMANDS:
        return f"{name}: {DOT_COMMANDS[name]}"
    cmd = schema.command(name)
    if cmd is None:
        close = suggest(name, [*schema.commands, *DOT_COMMANDS])
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ParseError(f"unknown command: {name}{hint}")
    out = [cmd.name + (f" - {cmd.title}" if cmd.title else "")]
    notes = []
    if cmd.deprecated:
        notes.append("deprecated")
    if cmd.group == "live":
        notes.append("offered by the connected server; not in the bundled table")
    if cmd.targets:
        notes.append("only on " + ", ".join(cmd.targets))
    if notes:
        out.append("(" + "; ".join(notes) + ")")
    doc = doc_body(cmd.doc, cmd.title)
    if doc:
        out += ["", textwrap.indent(doc, "  ")]
    out += ["", *arguments_text(schema, cmd)]
    examples = [e for e in cmd.examples if e.direction == "->"]
    if examples:
        out += ["", "Example:" if len(examples) == 1 else "Examples:"]
        out += [f"  {example_line(e, schema)}" for e in examples]
    return "\n".join(out)


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


def arguments_text(schema: Schema, cmd: Command) -> list[str]:
    """The argument table: name, type, required/optional, one-line doc."""
    info = schema.arguments(cmd)
    members = schema.members_for(cmd.args_type)
    if not members:
        if info.open:
            return ["Arguments: any key=value options"]
        return ["Arguments: none"]
    out = ["Arguments:"]
    rows = [(m.name, schema.describe(m.type), _need(m), first_line(m.doc))
            for m in sorted(members, key=lambda m: m.optional)]
    name_w = min(max(len(r[0]) for r in rows) + 2, 28)
    kind_w = min(max(len(r[1]) for r in rows) + 2, 40)
    need_w = max(len(r[2]) for r in rows) + 2
    for name, kind, need, doc in rows:
        line = f"  {_pad(name, name_w)}{_pad(kind, kind_w)}{_pad(need, need_w)}{doc}"
        out.append(line.rstrip())
    if info.tag and info.variants:
        cases = ", ".join(v for v, _ in info.variants)
        out.append(textwrap.fill(f"more arguments depend on {info.tag}: {cases}", WIDTH,
                                 initial_indent="  ", subsequent_indent="    "))
    if info.open:
        out.append("  (other key=value options are passed through)")
    return out


def _need(m: Member) -> str:
    return ("optional" if m.optional else "required") + (", deprecated" if m.deprecated else "")


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
