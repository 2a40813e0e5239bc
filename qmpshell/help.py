"""Help texts: ``.help`` (the commands, grouped) and ``.help CMD`` / ``CMD ?``.

Pure functions from the schema to plain text, so the runner can print them
in scripts as well as at the prompt (nothing here imports prompt_toolkit).
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from qmpshell.errors import ParseError
from qmpshell.schema import Command, Example, Member, Schema, suggest

DOT_COMMANDS: dict[str, str] = {
    ".help": "list commands, or show one: .help CMD",
    ".wait": "wait for an event: .wait EVENT [timeout=S] [key=value...]",
    ".sleep": "pause: .sleep SECONDS",
    ".echo": "print a line of text",
    ".hmp": "run one HMP command: .hmp LINE",
    ".quit": "leave the shell",
    ".connect": "reconnect, or connect elsewhere: .connect [ADDRESS]",
    ".pager": "long replies through a pager: .pager on|off",
    ".record": "append executed lines to a file: .record FILE|off",
    ".schema": "save the live schema: .schema save FILE",
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
    width = max((len(n) for n in schema.commands), default=10) + 2
    width = min(width, 32)
    out: list[str] = []
    for title, cmds in sections:
        if not cmds:
            continue
        out.append(f"{title}:")
        for cmd in cmds:
            note = cmd.title or first_line(cmd.doc)
            if cmd.deprecated:
                note = f"(deprecated) {note}".rstrip()
            out.append(f"  {cmd.name:<{width}}{note}".rstrip())
        out.append("")
    out.append("Shell commands:")
    for name, doc in DOT_COMMANDS.items():
        out.append(f"  {name:<{width}}{doc}")
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
    doc = cmd.doc.strip()
    if doc and doc != cmd.title:
        out += ["", textwrap.indent(doc, "  ")]
    out += ["", *arguments_text(schema, cmd)]
    examples = [e for e in cmd.examples if e.direction == "->"]
    if examples:
        out += ["", "Example:" if len(examples) == 1 else "Examples:"]
        out += [f"  {example_line(e)}" for e in examples]
    return "\n".join(out)


def arguments_text(schema: Schema, cmd: Command) -> list[str]:
    """The argument table: name, type, required/optional, one-line doc."""
    info = schema.arguments(cmd)
    members = schema.members_for(cmd.args_type)
    if not members:
        if info.open:
            return ["Arguments: any key=value options"]
        return ["Arguments: none"]
    out = ["Arguments:"]
    width = min(max(len(m.name) for m in members) + 2, 28)
    for m in sorted(members, key=lambda m: m.optional):
        out.append("  " + _member_row(schema, m, width))
    if info.tag and info.variants:
        cases = ", ".join(v for v, _ in info.variants)
        out.append(textwrap.fill(f"more arguments depend on {info.tag}: {cases}", WIDTH,
                                 initial_indent="  ", subsequent_indent="    "))
    if info.open:
        out.append("  (other key=value options are passed through)")
    return out


def _member_row(schema: Schema, m: Member, width: int) -> str:
    kind = schema.describe(m.type)
    need = "optional" if m.optional else "required"
    extra = ", deprecated" if m.deprecated else ""
    row = f"{m.name:<{width}}{kind} ({need}{extra})"
    doc = first_line(m.doc)
    return f"{row}  {doc}" if doc else row


def example_line(example: Example) -> str:
    """A spec example request written as the user would type it."""
    request = example.json
    if not isinstance(request, dict) or "execute" not in request:
        return example.text or json.dumps(request)
    return request_to_shorthand(request)


def request_to_shorthand(request: dict[str, Any]) -> str:
    """``{"execute": C, "arguments": {...}}`` as a shorthand line, using the
    shorthand module's writer so help and recordings agree."""
    try:
        from qmpshell.shorthand import format_request
    except ImportError:  # shorthand not importable: write it the simple way
        return _simple_shorthand(request)
    try:
        return str(format_request(request))
    except Exception:  # noqa: BLE001 - an example the writer cannot say stays JSON
        return json.dumps(request)


def _simple_shorthand(request: dict[str, Any]) -> str:
    words = [str(request["execute"])]
    for key, value in (request.get("arguments") or {}).items():
        text = value if isinstance(value, str) and value and " " not in value else json.dumps(value)
        words.append(f"{key}={text}")
    return " ".join(words)


def first_line(doc: str) -> str:
    """The first line of a documentation text, cut to fit a menu."""
    for line in doc.strip().splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= 70 else line[:67] + "..."
    return ""
