"""Reading QEMU's ``qmp-commands.hx`` into command records.

The spec is the source of the bundled command table.  It comes either as the
plain ``.hx`` file or as the blame page a git web viewer renders of it (the
copy bundled in ``qmpshell/schema/data``); both read to the same records.  Reading is
pure: text in, records out, :class:`SpecError` (a ``SchemaError`` carrying the
file's line number) for anything that cannot be read.  The rules that turn an
``args_type`` code into a schema type and a completion hint live here, as
data, so the table carries their result and start-up never reads the spec.

``tools/gen_table.py --write-table`` (``make table``) regenerates the table and
``--check`` verifies the committed one still matches the spec.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from qmpshell import jsonlimit
from qmpshell.errors import SchemaError
from qmpshell.schema.model import Example

TABLE_FORMAT = 1

CODE_TYPES: Mapping[str, str] = {
    "s": "str",
    "B": "str",
    "F": "file",
    "i": "int",
    "l": "int",
    "M": "size",
    "o": "size",
    "T": "number",
    "b": "bool",
    "q": "any",
    "O": "options",
}
"""args_type code -> schema type name (``-x`` flags are 'flag')."""

CODE_HINTS: Mapping[str, str] = {"B": "block-device", "F": "file"}
"""Codes whose values are always live things of one kind."""

NAME_HINTS: Mapping[str, str] = {"node-name": "node-name", "image-node-name": "node-name"}
"""Argument names that name an existing thing whatever the command."""

ARGUMENT_HINTS: Mapping[tuple[str, str], str] = {
    ("block_resize", "device"): "block-device",
    ("block_passwd", "device"): "block-device",
    ("blockdev-snapshot-sync", "device"): "block-device",
    ("blockdev-snapshot-sync", "snapshot-file"): "file",
    ("change-backing-file", "device"): "block-device",
    ("drive-backup", "target"): "file",
    ("drive-mirror", "node-name"): "",
    ("drive-mirror", "replaces"): "node-name",
    ("drive-mirror", "target"): "file",
    ("memsave", "filename"): "file",
    ("pmemsave", "filename"): "file",
    ("ringbuf-write", "device"): "chardev",
    ("ringbuf-read", "device"): "chardev",
    ("chardev-remove", "id"): "chardev",
    ("device_del", "id"): "device-id",
    ("qom-get", "path"): "qom-path",
    ("qom-list", "path"): "qom-path",
    ("qom-set", "path"): "qom-path",
}
"""(command, argument) -> hint, where only the command tells what a string names
('' where a general rule would be wrong: drive-mirror's node-name is a new one)."""

JSON_TYPES: Mapping[str, str] = {
    "json-string": "str",
    "json-int": "int",
    "json-number": "number",
    "json-bool": "bool",
    "json-array": "list",
}
"""Documented json-type -> schema type, for the keys of an options object."""


class SpecError(SchemaError):
    """The spec could not be read; ``line`` is the line of the file read."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.message = message
        self.line = line


@dataclass(frozen=True)
class DocArgument:
    """One item of a command's ``Arguments:`` list, as the documentation gives it."""

    name: str
    doc: str
    json_type: str
    optional: bool
    line: int


@dataclass(frozen=True)
class SpecArgument:
    """One argument of a command's ``args_type``, with what the docs say of it."""

    name: str
    code: str
    optional: bool
    type: str
    hint: str = ""
    doc: str = ""
    json_type: str = ""


@dataclass(frozen=True)
class SpecCommand:
    """Everything the spec says about one command."""

    name: str
    code: str
    arguments: tuple[SpecArgument, ...]
    group: str
    targets: tuple[str, ...] = ()
    title: str = ""
    doc: str = ""
    documented: tuple[DocArgument, ...] = ()
    examples: tuple[Example, ...] = ()
    line: int = 0
    open: bool = False
    """An ``O`` argument stands for the whole arguments object: any key goes."""

    def argument(self, name: str) -> SpecArgument | None:
        for arg in self.arguments:
            if arg.name == name:
                return arg
        return None

    def requests(self) -> list[Example]:
        return [e for e in self.examples if e.direction == "->"]


@dataclass(frozen=True)
class SourceLine:
    """A line of the spec: its number in the spec and in the file it was read from."""

    number: int
    text: str
    file_line: int


@dataclass(frozen=True)
class _Doc:
    heading: str
    line: int
    title: str
    text: str
    documented: tuple[DocArgument, ...]
    examples: tuple[Example, ...]


# -- the two file forms -----------------------------------------------------

_COMMIT = re.compile(r"[0-9a-f]{8}")
_COMMIT_PREFIX = re.compile(r"([0-9a-f]{8}) (.*)", re.S)
_INITIALS = re.compile(r"[A-Z]{1,5}")
_BLAME_HEADER = 4


def is_annotated(text: str) -> bool:
    """Whether ``text`` is the blame page of a web viewer rather than the file."""
    head = text.splitlines()[:_BLAME_HEADER]
    return bool(head) and (head[0].startswith("]>") or "CommitLineData" in head)


def source_lines(text: str) -> list[SourceLine]:
    """The spec's own lines, whichever form ``text`` has."""
    lines = text.splitlines()
    if not is_annotated(text):
        return [SourceLine(i, t, i) for i, t in enumerate(lines, 1)]
    if len(lines) < _BLAME_HEADER or lines[_BLAME_HEADER - 1].strip() != "CommitLineData":
        raise SpecError("annotated copy without its 4-line page header", _BLAME_HEADER)
    return _strip_annotations(lines)


def _strip_annotations(lines: list[str]) -> list[SourceLine]:
    """Drop blame annotations; split each glued line number by the expected next one."""
    out: list[SourceLine] = []
    for index in range(_BLAME_HEADER, len(lines)):
        raw = lines[index]
        number = str(len(out) + 1)
        following = lines[index + 1] if index + 1 < len(lines) else ""
        body = raw
        prefixed = _COMMIT_PREFIX.fullmatch(raw)
        if prefixed and prefixed.group(2).startswith(number):
            body = prefixed.group(2)
        elif _COMMIT.fullmatch(raw) and _INITIALS.fullmatch(following):
            continue
        if body.startswith(number):
            out.append(SourceLine(len(out) + 1, body[len(number) :], index + 1))
        elif _COMMIT.fullmatch(raw) or _INITIALS.fullmatch(raw) or not raw.strip():
            continue
        else:
            raise SpecError(f"expected spec line {number}, found {raw[:40]!r}", index + 1)
    return out


# -- the whole document -----------------------------------------------------

_SECTION = re.compile(r"\s*\d+\.\s+(Regular|Query)\s+Commands\s*$")
_FIELD = re.compile(r"\.([\w.]+)\s*=\s*((?:\"(?:[^\"\\]|\\.)*\"\s*)+),?")
_LITERAL = re.compile(r"\"((?:[^\"\\]|\\.)*)\"")
_DEFINED = re.compile(r"defined\s*\(?\s*(\w+)\s*\)?")


@dataclass(frozen=True)
class _Entry:
    name: str
    code: str
    line: int
    file_line: int
    group: str
    targets: tuple[str, ...]


def read_spec(text: str) -> list[SpecCommand]:
    """The commands of a ``qmp-commands.hx`` (plain or annotated), in spec order."""
    lines = source_lines(text)
    entries, docs = _scan(lines)
    if not entries:
        raise SpecError("no command table entries found", lines[-1].file_line if lines else 1)
    return [_command(entry, doc) for entry, doc in _pair(entries, docs)]


def _pair(entries: list[_Entry], docs: list[_Doc]) -> list[tuple[_Entry, _Doc | None]]:
    """Match each entry with its documentation: by heading (``@name`` or ``name``),
    else the unclaimed block right after it (``dump`` documents dump-guest-memory)."""
    names = {e.name for e in entries}
    by_name = {d.heading.lstrip("@"): d for d in docs if d.heading.lstrip("@") in names}
    strays = [d for d in docs if d.heading.lstrip("@") not in names]
    pairs: list[tuple[_Entry, _Doc | None]] = []
    for index, entry in enumerate(entries):
        doc = by_name.get(entry.name)
        if doc is None:
            limit = entries[index + 1].line if index + 1 < len(entries) else float("inf")
            doc = next((d for d in strays if entry.line < d.line < limit), None)
        pairs.append((entry, doc))
    return pairs


def _scan(lines: list[SourceLine]) -> tuple[list[_Entry], list[_Doc]]:
    """Walk the document: table entries, SQMP/EQMP blocks, sections, #if nesting."""
    entries: list[_Entry] = []
    docs: list[_Doc] = []
    conditions: list[str] = []
    group = "regular"
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.text.strip()
        if stripped == "SQMP":
            end = _find(lines, i + 1, "EQMP")
            block = lines[i + 1 : end]
            cut = next((k for k, b in enumerate(block) if _SECTION.match(b.text)), len(block))
            doc = _read_doc(block[:cut])
            if doc is not None:
                docs.append(doc)
            for later in block[cut:]:
                section = _SECTION.match(later.text)
                if section:
                    group = section.group(1).lower()
            i = end + 1
            continue
        if stripped.startswith("#if"):
            conditions.append(_condition(stripped))
        elif stripped.startswith("#else"):
            if not conditions:
                raise SpecError("#else without #if", line.file_line)
            conditions[-1] = "!" + conditions[-1]
        elif stripped.startswith("#endif"):
            if not conditions:
                raise SpecError("#endif without #if", line.file_line)
            conditions.pop()
        elif stripped == "{":
            end = _find(lines, i + 1, "},")
            entries.append(_read_entry(lines[i : end + 1], group, tuple(conditions)))
            i = end + 1
            continue
        elif stripped and not stripped.startswith("HXCOMM"):
            raise SpecError(f"unexpected text outside SQMP/EQMP: {stripped[:40]!r}", line.file_line)
        i += 1
    if conditions:
        raise SpecError(f"#if {conditions[-1]} is never closed", lines[-1].file_line)
    return entries, docs


def _find(lines: list[SourceLine], start: int, marker: str) -> int:
    for k in range(start, len(lines)):
        if lines[k].text.strip() == marker:
            return k
    raise SpecError(f"missing {marker}", lines[start - 1].file_line)


def _condition(directive: str) -> str:
    """'#if defined(TARGET_I386)' -> 'TARGET_I386'; other forms are kept as written."""
    if directive.startswith("#ifdef"):
        return directive[len("#ifdef") :].strip()
    if directive.startswith("#ifndef"):
        return "!" + directive[len("#ifndef") :].strip()
    expression = directive[len("#if") :].strip()
    found = _DEFINED.fullmatch(expression)
    return found.group(1) if found else expression


def _read_entry(block: list[SourceLine], group: str, targets: tuple[str, ...]) -> _Entry:
    """One ``{ .name = ..., .args_type = ... }`` initializer of the C table."""
    body = "\n".join(b.text for b in block)
    fields = {m.group(1): "".join(_LITERAL.findall(m.group(2))) for m in _FIELD.finditer(body)}
    if "name" not in fields:
        raise SpecError("table entry without .name", block[0].file_line)
    if "args_type" not in fields:
        raise SpecError(f"table entry {fields['name']} without .args_type", block[0].file_line)
    name_line = next(b for b in block if ".name" in b.text)
    return _Entry(
        fields["name"], fields["args_type"], name_line.number, name_line.file_line, group, targets
    )


# -- one documentation block ------------------------------------------------

_UNDERLINE = re.compile(r"-{3,}\s*")
_DOC_ITEM = re.compile(r"(\"?)([\w-]+)\1:\s*(.*)")
_OPTIONAL = re.compile(r"\boptional\b", re.I)
_DOC_TYPE = re.compile(r"\(([^()]*\bjson-[^()]*)\)")
_JSON_TYPE = re.compile(r"json-([a-z]+)")
_ARRAY_ITEM = re.compile(r"\"?([\w-]+)\"? array:")
_ARGS_END = re.compile(r"^(Examples?|Notes?|Returns?|Since)\b", re.M)


def _read_doc(block: list[SourceLine]) -> _Doc | None:
    """A command's documentation: heading, summary, text, arguments, examples."""
    body = [b for b in block if not b.text.startswith("HXCOMM")]
    while body and not body[0].text.strip():
        body = body[1:]
    if not body:
        return None
    heading = body[0]
    rest = body[1:]
    if rest and _UNDERLINE.fullmatch(rest[0].text.strip()):
        rest = rest[1:]
    texts = [b.text.rstrip() for b in rest]
    text = "\n".join(texts).strip("\n")
    title = " ".join(_first_paragraph(texts))
    return _Doc(
        heading.text.strip(),
        heading.number,
        title,
        text,
        _read_arguments(rest),
        tuple(_read_examples(rest)),
    )


def _first_paragraph(texts: Sequence[str]) -> Iterator[str]:
    started = False
    for t in texts:
        if t.strip():
            started = True
            yield t.strip()
        elif started:
            return


def _read_arguments(rest: list[SourceLine]) -> tuple[DocArgument, ...]:
    """The ``- "name": text (json-type, optional)`` items after ``Arguments:``.

    An item runs on through indented lines (blank ones too); prose at the left
    margin ends it.  ``keys array:`` introduces an array argument."""
    start = next((k for k, b in enumerate(rest) if b.text.startswith("Arguments:")), None)
    if start is None:
        return ()
    items: list[tuple[SourceLine, bool, list[str]]] = []
    in_item = False
    for b in rest[start + 1 :]:
        text = b.text
        if _ARGS_END.match(text):
            break
        if not text.strip():
            continue
        if text[:1].isspace():
            if in_item:
                items[-1][2].append(text.strip())
            continue
        array = _ARRAY_ITEM.fullmatch(text.strip())
        if text.startswith("- "):
            items.append((b, False, [text[2:].strip()]))
        elif array:
            items.append((b, True, [f'"{array.group(1)}": array of:']))
        in_item = bool(text.startswith("- ") or array)
    found = (_doc_argument(first, is_array, parts) for first, is_array, parts in items)
    return tuple(d for d in found if d is not None)


def _doc_argument(first: SourceLine, is_array: bool, parts: list[str]) -> DocArgument | None:
    item = _DOC_ITEM.fullmatch(" ".join(parts))
    if item is None:
        return None  # "- device properties": prose, not an argument
    description = item.group(3).strip()
    typed = _DOC_TYPE.findall(description)
    kind = _JSON_TYPE.search(typed[-1]) if typed else None
    json_type = "json-array" if is_array else kind.group(0) if kind else ""
    optional = not is_array and _OPTIONAL.search(description) is not None
    return DocArgument(item.group(2), description, json_type, optional, first.number)


def _read_examples(rest: list[SourceLine]) -> Iterator[Example]:
    """``->`` requests and ``<-`` replies; a JSON value may span several lines."""
    k = 0
    while k < len(rest):
        first = rest[k]
        head = first.text.lstrip()
        if not head.startswith(("->", "<-")):
            k += 1
            continue
        direction, chunk = head[:2], [head[2:].strip()]
        depth = _depth(chunk[0])
        k += 1
        while depth > 0 and k < len(rest) and _continues(rest, k):
            nxt = rest[k].text
            if nxt.strip():
                chunk.append(nxt.strip())
            depth += _depth(nxt)
            k += 1
        source = "\n".join(chunk)
        try:
            value = jsonlimit.loads(source)
        except ValueError:
            yield Example(line=first.number, direction=direction, text=source, valid=False)
        else:
            yield Example(line=first.number, direction=direction, json=value)


def _continues(rest: list[SourceLine], k: int) -> bool:
    """Whether line ``k`` goes on with an unfinished JSON value: not a new
    example, and a blank line only when indented JSON follows it (query-pci)."""
    text = rest[k].text
    if text.lstrip().startswith(("->", "<-")):
        return False
    if text.strip():
        return True
    after = next((b.text for b in rest[k:] if b.text.strip()), "")
    return after[:1].isspace() or after[:1] in '{}[]"' if after else False


def _depth(text: str) -> int:
    """Net bracket nesting a line opens, ignoring brackets inside strings."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return depth


# -- from a table entry and its documentation to a command ------------------


def parse_args_type(code: str) -> list[tuple[str, str, bool]]:
    """'device:B,force:b?' -> [('device', 'B', False), ('force', 'b', True)]."""
    out = []
    for part in filter(None, code.split(",")):
        name, sep, kind = part.partition(":")
        if not sep or not name or not kind:
            raise ValueError(f"bad args_type item {part!r}")
        optional = kind.endswith("?")
        kind = kind.rstrip("?")
        out.append((name, kind, optional or kind.startswith("-")))
    return out


def argument_type(code: str, said: DocArgument | None, passed: Sequence[object]) -> str:
    """The schema type of one argument.

    ``O`` is an options object standing for the whole arguments (device_add),
    except where the documentation calls the argument an array or the examples
    pass a list for it (send-key's ``keys``, migrate-set-capabilities)."""
    if code.startswith("-"):
        return "flag"
    if code == "O":
        listed = said is not None and said.json_type == "json-array"
        return "list" if listed or any(isinstance(v, list) for v in passed) else "options"
    if code not in CODE_TYPES:
        raise ValueError(f"unknown args_type code {code!r}")
    return CODE_TYPES[code]


def argument_hint(command: str, name: str, code: str) -> str:
    """What live values complete this argument ('' for none)."""
    if (command, name) in ARGUMENT_HINTS:
        return ARGUMENT_HINTS[(command, name)]
    return CODE_HINTS.get(code) or NAME_HINTS.get(name) or ""


def _command(entry: _Entry, doc: _Doc | None) -> SpecCommand:
    documented = {d.name: d for d in doc.documented} if doc else {}
    doc_text = doc.text if doc else ""
    try:
        parsed = parse_args_type(entry.code)
        arguments = []
        for name, code, optional in parsed:
            said = documented.get(name)
            passed = [args[name] for args in _request_arguments(doc) if name in args]
            kind = argument_type(code, said, passed)
            arguments.append(
                SpecArgument(
                    name=name,
                    code=code,
                    optional=optional,
                    type=kind,
                    hint=argument_hint(entry.name, name, code),
                    doc=said.doc if said else "",
                    json_type=said.json_type if said else "",
                )
            )
    except ValueError as err:
        raise SpecError(f"{entry.name}: {err}", entry.file_line) from None
    return SpecCommand(
        name=entry.name,
        code=entry.code,
        arguments=tuple(arguments),
        group=entry.group,
        targets=entry.targets,
        title=doc.title if doc else "",
        doc=doc_text,
        documented=doc.documented if doc else (),
        examples=doc.examples if doc else (),
        line=entry.line,
        open=any(a.type == "options" for a in arguments),
    )


def _request_arguments(doc: _Doc | None) -> list[dict[str, object]]:
    """The ``arguments`` objects of a command's request examples."""
    found = []
    for example in doc.examples if doc else ():
        request = example.json
        if example.direction == "->" and isinstance(request, dict):
            args = request.get("arguments")
            if isinstance(args, dict):
                found.append(args)
    return found


# -- the bundled table ------------------------------------------------------


def table_data(commands: Sequence[SpecCommand], source: str) -> dict[str, object]:
    """The command table as plain JSON data, everything the schema needs at start-up."""
    return {
        "format": TABLE_FORMAT,
        "source": source,
        "license": "GPL-2.0 (generated from QEMU's qmp-commands.hx documentation)",
        "commands": [_command_data(c) for c in sorted(commands, key=lambda c: c.name)],
    }


def render_table(commands: Sequence[SpecCommand], source: str) -> str:
    """The table file's exact text: stable key order, one value per line, final newline."""
    return json.dumps(table_data(commands, source), indent=1, ensure_ascii=False) + "\n"


def _command_data(c: SpecCommand) -> dict[str, object]:
    return {
        "name": c.name,
        "code": c.code,
        "group": c.group,
        "targets": list(c.targets),
        "line": c.line,
        "title": c.title,
        "open": c.open,
        "arguments": [
            {
                "name": a.name,
                "code": a.code,
                "type": a.type,
                "optional": a.optional,
                "hint": a.hint,
                "json_type": a.json_type,
                "doc": a.doc,
            }
            for a in c.arguments
        ],
        "documented": [
            {
                "name": d.name,
                "type": JSON_TYPES.get(d.json_type, "any"),
                "optional": d.optional,
                "json_type": d.json_type,
                "line": d.line,
                "doc": d.doc,
            }
            for d in c.documented
        ],
        "examples": [_example_data(e) for e in c.examples],
        "doc": c.doc,
    }


def _example_data(e: Example) -> dict[str, object]:
    if e.valid:
        return {"line": e.line, "direction": e.direction, "json": e.json}
    return {"line": e.line, "direction": e.direction, "valid": False, "text": e.text}
