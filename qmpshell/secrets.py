"""Masking of secrets (passwords, secret data) for everything the shell
writes down or shows: history, ``--logfile``, recordings, ``-v``, ``-n``.
The server still gets the real value; only copies for people and files are
masked.

What is secret comes from ONE table, :data:`SECRET_TABLE`: which argument
of which command (QMP or HMP) carries a secret, reviewed against QEMU 7.2's
``query-qmp-schema`` and ``hmp-commands.hx``.  On top of it, any member whose
name says it is a secret (``password``, ``vnc-password``, ``new-secret``...)
is masked wherever it appears, so a newer QEMU's commands are covered too.

Every function here is linear in the size of its input and walks nested
values without recursion: a 100 KB paste or a deeply nested message costs
no more than reading it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache

from qmpshell import jsonlimit
from qmpshell.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any

MASK = "********"

SECRET_WORDS = frozenset({"password", "passwd", "passphrase", "secret", "token", "cookie"})
"""A member name is secret when one of its ``-``/``_``/``.`` separated parts is
one of these: ``password``, ``vnc-password``, ``new-secret``, ``file.password``
(but not ``passwordid`` or ``pass-discard-request``)."""

SECRET_OBJECTS = frozenset({"secret", "secret_keyring"})
"""QOM types whose ``data`` is the secret itself (object-add, HMP object_add)."""

SECRET_PROPERTIES = frozenset({"data", "password", "passphrase", "secret"})
"""Properties whose value ``qom-set`` writes in clear: a secret object's data."""


class Secret(Record):
    """One entry of :data:`SECRET_TABLE`.

    ``argument`` is a QMP argument name (dotted for nested ones), or for HMP
    the 1-based position of the word after the command (``"2"``) or the name
    of a ``key=value`` option inside the arguments (``"data"``).  ``when`` is a
    condition: (argument or position, the values it must have)."""

    __slots__ = ("monitor", "command", "argument", "when", "note")

    monitor: str
    command: str
    argument: str
    when: tuple[str, frozenset[str]] | None
    note: str

    def __init__(
        self,
        monitor: str,
        command: str,
        argument: str,
        when: tuple[str, frozenset[str]] | None = None,
        note: str = "",
    ) -> None:
        self.monitor = monitor
        self.command = command
        self.argument = argument
        self.when = when
        self.note = note


SECRET_TABLE: tuple[Secret, ...] = (
    Secret("qmp", "set_password", "password", note="SetPasswordOptions.password"),
    Secret("qmp", "change-vnc-password", "password"),
    Secret("qmp", "sev-inject-launch-secret", "secret",
           note="the launch secret itself, base64"),
    Secret("qmp", "object-add", "data", ("qom-type", SECRET_OBJECTS),
           note="SecretProperties.data"),
    Secret("qmp", "object-add", "props.data", ("qom-type", SECRET_OBJECTS),
           note="object-add before QEMU 6.0"),
    Secret("qmp", "qom-set", "value", ("property", SECRET_PROPERTIES),
           note="a secret object's data written after creation"),
    Secret("qmp", "blockdev-add", "cookie",
           note="BlockdevOptionsCurlHttp(s).cookie, sent as the HTTP Cookie header"),
    Secret("qmp", "guest-set-user-password", "password", note="qemu-guest-agent (-N)"),
    Secret("qmp", "block_passwd", "password", note="QEMU before 4.0"),
    Secret("qmp", "human-monitor-command", "command-line",
           note="an HMP line: masked by the hmp entries"),
    Secret("hmp", "set_password", "2", note="set_password PROTOCOL PASSWORD [-d D] [ACTION]"),
    Secret("hmp", "change", "3", ("1,2", frozenset({"vnc password"})),
           note="change vnc password PASSWORD"),
    Secret("hmp", "block_passwd", "2", note="block_passwd DEVICE PASSWORD (old QEMUs)"),
    Secret("hmp", "object_add", "data", ("qom-type", SECRET_OBJECTS),
           note="object_add secret,id=ID,data=SECRET"),
    Secret("hmp", "qom-set", "3", ("2", SECRET_PROPERTIES),
           note="qom-set [-j] PATH PROPERTY VALUE"),
)


def _entries(monitor: str) -> dict[str, list[Secret]]:
    table: dict[str, list[Secret]] = {}
    for entry in SECRET_TABLE:
        if entry.monitor == monitor:
            table.setdefault(entry.command, []).append(entry)
    return table


_QMP = _entries("qmp")
_HMP = _entries("hmp")


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True for member names that carry secrets ('password', 'new-secret'...).
    Cached: a log masks the same few names in every message."""
    return any(part in SECRET_WORDS for part in re.split(r"[-_.]", name.lower()))


# -- JSON values ---------------------------------------------------------------

def mask_value(value: Any) -> Any:
    """A copy of a JSON value (a request, reply, event...) with its secrets
    masked: the table's arguments of a request, every secret-named scalar
    member, and the ``data`` of a secret object.  Iterative: any depth."""
    root: list[Any] = [None]
    # (value, the copy's container, key in it, whether a "data" here is secret)
    stack: list[tuple[Any, Any, Any, bool]] = [(value, root, 0, False)]
    while stack:
        source, parent, key, data_is_secret = stack.pop()
        if isinstance(source, dict):
            copy: dict[Any, Any] = {}
            parent[key] = copy
            secret_data = data_is_secret or _is_one_of(source.get("qom-type"), SECRET_OBJECTS)
            for name, item in source.items():
                if not isinstance(item, (dict, list)) and (
                        is_secret_name(str(name)) or (secret_data and name == "data")):
                    copy[name] = MASK
                else:
                    copy[name] = None
                    stack.append((item, copy, name, secret_data and name == "props"))
        elif isinstance(source, list):
            items: list[Any] = [None] * len(source)
            parent[key] = items
            stack.extend((item, items, i, False) for i, item in enumerate(source))
        else:
            parent[key] = source
    if isinstance(root[0], dict) and isinstance(root[0].get("execute"), str):
        _mask_by_table(root[0])
    return root[0]


def _is_one_of(value: object, names: frozenset[str]) -> bool:
    return isinstance(value, str) and value in names


def _mask_by_table(request: dict[str, Any]) -> None:
    """Mask in place the arguments :data:`SECRET_TABLE` names for this command."""
    arguments = request.get("arguments")
    if not isinstance(arguments, dict):
        return
    for entry in _QMP.get(request["execute"], ()):
        if entry.when is not None:
            name, values = entry.when
            if not _is_one_of(arguments.get(name), values):
                continue
        *parents, last = entry.argument.split(".")
        holder: Any = arguments
        for part in parents:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or last not in holder:
            continue
        if entry.command == "human-monitor-command":
            if isinstance(holder[last], str):
                holder[last] = mask_hmp(holder[last])
        else:
            holder[last] = MASK


def mask_request(request: dict[str, Any]) -> dict[str, Any]:
    """A copy of a QMP request (or any message) with secrets masked."""
    masked = mask_value(request)
    assert isinstance(masked, dict)
    return masked


# -- lines -----------------------------------------------------------------------

# One pass over the line: a word is a run of quoted strings and other
# non-blank characters; the alternatives start with different characters and
# nothing follows the run, so the engine never backtracks.
_WORD = r"""(?:[^\s"']+|"(?:[^"\\]+|\\.)*"?|'[^']*'?)+"""
_JSON_PAIR = r'"((?:[^"\\]|\\.)*)"(\s*:\s*)"((?:[^"\\]|\\.)*)"'


def _words(text: str) -> Iterator[re.Match[str]]:
    return re.finditer(_WORD, text)


def _unquote(word: str) -> tuple[str, str]:
    """(quote character or '', the text inside)."""
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'":
        return word[0], word[1:-1]
    return "", word


def _splice(text: str, changes: list[tuple[int, int, str]]) -> str:
    if not changes:
        return text
    out, at = [], 0
    for start, end, new in sorted(changes):
        out.append(text[at:start])
        out.append(new)
        at = end
    out.append(text[at:])
    return "".join(out)


def mask_line(line: str, *, hmp: bool = False) -> str:
    """A line as typed (shorthand, raw JSON, a dot-command; an HMP line with
    ``hmp``) with secret values masked, for history and recordings."""
    stripped = line.lstrip()
    if stripped.startswith("@"):  # @VM line: the address, then the line
        name, space, rest = stripped.partition(" ")
        head = line[:len(line) - len(stripped)] + name + space
        return head + _mask_addressed(rest, hmp=hmp) if rest else line
    return _mask_addressed(line, hmp=hmp)


def _mask_addressed(line: str, *, hmp: bool) -> str:
    stripped = line.lstrip()
    indent = line[:len(line) - len(stripped)]
    if hmp and not stripped.startswith("."):
        return mask_hmp(line)
    if stripped.startswith(".hmp") and stripped[4:5] in (" ", "\t"):
        return indent + stripped[:5] + mask_hmp(stripped[5:])
    if stripped.startswith("{"):
        return _mask_json_line(line)
    return _mask_json_pairs(_mask_shorthand(line))


def _mask_json_line(line: str) -> str:
    """A raw JSON request: masked through :func:`mask_value` when it parses
    (written back only if something was masked), by pairs otherwise."""
    try:
        message = jsonlimit.loads(line)
    except (ValueError, RecursionError):
        return _mask_json_pairs(line)
    masked = mask_value(message)
    if masked == message:
        return line
    try:
        return json.dumps(masked)
    except (ValueError, RecursionError):
        return _mask_json_pairs(line)


def _mask_json_pairs(text: str) -> str:
    """``"password": "..."`` pairs anywhere in ``text``; ``"data": "..."`` too
    when the text mentions a secret object; ``"command-line": "..."`` as HMP."""
    secret_object = re.search(r'"qom-type"\s*:\s*"secret(?:_keyring)?"', text) is not None

    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "command-line":
            try:
                inner = json.loads(f'"{m.group(3)}"')
            except ValueError:
                return m.group(0)
            masked = mask_hmp(inner)
            return (m.group(0) if masked == inner
                    else f'"{name}"{m.group(2)}{json.dumps(masked, ensure_ascii=False)}')
        if is_secret_name(name) or (secret_object and name == "data"):
            return f'"{name}"{m.group(2)}"{MASK}"'
        return m.group(0)

    if '"' not in text:
        return text
    return re.sub(_JSON_PAIR, replace, text)


def _mask_shorthand(line: str) -> str:
    """``key=value`` words: secret names, and the table's arguments of the
    command they belong to (a one-line ``transaction( ... ; ... )`` has several)."""
    changes: list[tuple[int, int, str]] = []
    command: str | None = None
    segment: list[tuple[re.Match[str], str, str]] = []  # (word, key, value)

    def close_segment() -> None:
        given = {key: _unquote(value)[1] for _, key, value in segment}
        for word, key, value in segment:
            start = word.start() + len(key) + 1
            if key == "command-line" and command == "human-monitor-command":
                quote, inner = _unquote(value)
                if quote == '"':
                    inner = re.sub(r"\\(.)", r"\1", inner)
                masked = mask_hmp(inner)
                if masked != inner:
                    if quote == '"':
                        masked = masked.replace("\\", "\\\\").replace('"', '\\"')
                    changes.append((start, word.end(), f"{quote}{masked}{quote}"))
            elif _shorthand_secret(command, key, given):
                changes.append((start, word.end(), MASK))
        segment.clear()

    for word in _words(line):
        text = word.group(0)
        if text in (";", "transaction(", ")") or text.startswith("#"):
            close_segment()
            command = None
            if text.startswith("#"):
                break
            continue
        key, eq, value = text.partition("=")
        if command is None:
            command = text
        elif eq and key and key[0] not in "\"'{[":
            segment.append((word, key, value))
    close_segment()
    return _splice(line, changes)


def _shorthand_secret(command: str | None, key: str, given: dict[str, str]) -> bool:
    if is_secret_name(key):
        return True
    for entry in _QMP.get(command or "", ()):
        if entry.argument == key and (entry.when is None
                                      or given.get(entry.when[0]) in entry.when[1]):
            return True
    return key in ("data", "props.data") and given.get("qom-type") in SECRET_OBJECTS


# -- HMP -------------------------------------------------------------------------

def mask_hmp(line: str) -> str:
    """An HMP command line with its secrets masked (the ``hmp`` entries of
    :data:`SECRET_TABLE`, and secret-named ``key=value`` options anywhere)."""
    words = list(_words(line))
    if not words:
        return line
    command = words[0].group(0)
    args = words[1:]
    if command == "qom-set" and args and args[0].group(0) == "-j":
        args = args[1:]
    texts = [_unquote(w.group(0))[1] for w in args]
    changes: list[tuple[int, int, str]] = []
    for entry in _HMP.get(command, ()):
        if entry.argument.isdigit():
            position = int(entry.argument)
            if position > len(args) or not _hmp_condition(entry, texts):
                continue
            word = args[position - 1]
            changes.append((word.start(), word.end(), MASK))
    if command == "object_add" and args and args[0].group(0).startswith("{"):
        rest = line[args[0].start():]
        return line[:args[0].start()] + _mask_json_line(rest)
    masked_at = {start for start, _, _ in changes}
    for word in args:
        if "=" in word.group(0) and word.start() not in masked_at:
            masked = _mask_options(word.group(0), object_add=command == "object_add")
            if masked != word.group(0):
                changes.append((word.start(), word.end(), masked))
    return _splice(line, changes)


def _hmp_condition(entry: Secret, texts: list[str]) -> bool:
    if entry.when is None:
        return True
    positions, values = entry.when
    picked = []
    for position in positions.split(","):
        index = int(position) - 1
        if index >= len(texts):
            return False
        picked.append(texts[index])
    return " ".join(picked) in values


def _mask_options(word: str, *, object_add: bool) -> str:
    """``key=value,key=value`` (QEMU's option syntax, ``,,`` is a comma):
    secret-named values masked, and ``data`` of a secret object."""
    quote, text = _unquote(word)
    parts = re.split(r"(?<!,),(?!,)", text) if ",," in text else text.split(",")
    secret_object = object_add and (
        parts[0] in SECRET_OBJECTS
        or any(p.partition("=")[0] == "qom-type" and p.partition("=")[2] in SECRET_OBJECTS
               for p in parts))
    out = []
    for part in parts:
        key, eq, _ = part.partition("=")
        if eq and (is_secret_name(key) or (secret_object and key == "data")):
            part = f"{key}={MASK}"
        out.append(part)
    return quote + ",".join(out) + quote
