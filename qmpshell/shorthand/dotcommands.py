"""Parsing the shell's own dot-commands (``.wait``, ``.sleep`` ...).

Dot-commands belong to the shell, never to QEMU; this module only turns
their text into values, the runner carries them out.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

from qmpshell.errors import ParseError
from qmpshell.schema.model import suggest
from qmpshell.shorthand.literals import LiteralError
from qmpshell.shorthand.words import scan, strip_comment, unquote

NAMES = (".help", ".wait", ".sleep", ".echo", ".hmp", ".record", ".schema", ".quit")

SCRIPT_WAIT_TIMEOUT = 60.0
"""Seconds a ``.wait`` without ``timeout=`` waits in a scripted run when
``--timeout`` is not given either: a script must not hang for ever on an
event that never comes.  At the prompt it waits until Ctrl-C."""


@dataclass(frozen=True)
class DotCommand:
    """A parsed dot-command: its name (without the dot) and what follows."""

    name: str
    rest: str = ""


@dataclass(frozen=True)
class WaitSpec:
    """``.wait EVENT [timeout=S] [key=value ...]``."""

    event: str
    timeout: float | None = None
    match: dict[str, str] = field(default_factory=dict)

    def matches(self, event: dict[str, Any]) -> bool:
        """True when ``event`` has this name and every key=value (dotted keys
        reach into nested data; values compare as they would be typed)."""
        if str(event.get("event", "")).upper() != self.event.upper():
            return False
        data = event.get("data", {})
        return all(_as_typed(_lookup(data, key)) == value for key, value in self.match.items())


def parse_dot(line: str) -> DotCommand:
    """Split ``.name rest`` (a ``#`` comment dropped, as on any line); unknown
    names are a ParseError with suggestions."""
    text = line.strip()
    name, _, rest = text.partition(" ")
    if name not in NAMES:
        close = suggest(name, NAMES, 1)
        hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(NAMES)})"
        raise ParseError(f"unknown dot-command {name}{hint}", 1, line)
    return DotCommand(name[1:], strip_comment(rest).strip())


def parse_wait(rest: str) -> WaitSpec:
    """The arguments of ``.wait``."""
    words = _split(rest)
    if not words or "=" in words[0]:
        raise ParseError(".wait needs an event name: .wait EVENT [timeout=S] [key=value ...]")
    timeout: float | None = None
    match: dict[str, str] = {}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise ParseError(f".wait: expected key=value, got {word!r}")
        if key == "timeout":
            timeout = parse_seconds(value, ".wait timeout")
        elif key in match:
            raise ParseError(f".wait: duplicate key {key!r}")
        else:
            match[key] = value
    return WaitSpec(words[0], timeout, match)


@dataclass(frozen=True)
class RecordSpec:
    """``.record`` (status), ``.record FILE`` or ``.record off``."""

    path: str | None = None
    off: bool = False


def parse_record(rest: str) -> RecordSpec:
    """The argument of ``.record``: a file name (quotes for spaces), ``off`` or nothing."""
    words = _split(rest)
    if len(words) > 1:
        raise ParseError(".record takes one FILE, or off: .record FILE|off")
    if not words:
        return RecordSpec()
    if words[0] == "off":
        return RecordSpec(off=True)
    return RecordSpec(path=os.path.expanduser(words[0]))


@dataclass(frozen=True)
class SchemaSpec:
    """``.schema`` (where the schema came from) or ``.schema save FILE``."""

    save_to: str | None = None


def parse_schema(rest: str) -> SchemaSpec:
    """The arguments of ``.schema``."""
    words = _split(rest)
    if not words:
        return SchemaSpec()
    if words[0] != "save" or len(words) != 2:
        raise ParseError(".schema takes nothing, or save FILE: .schema save FILE")
    return SchemaSpec(save_to=os.path.expanduser(words[1]))


def parse_seconds(text: str, what: str = ".sleep") -> float:
    """A non-negative number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        raise ParseError(f"{what}: expected a number of seconds, got {text!r}") from None
    if seconds < 0 or not math.isfinite(seconds):
        raise ParseError(f"{what}: expected a number of seconds, got {text!r}")
    return seconds


def _split(text: str) -> list[str]:
    """The words of a dot-command's arguments, read as every line is (see
    :mod:`qmpshell.shorthand.words`), quotes removed: ``.record "a b.qmp"``."""
    scanned = scan(text)
    if scanned.problem is not None:
        raise ParseError(scanned.problem.message)
    try:
        return [unquote(word)[0] for word in scanned.words]
    except LiteralError as error:
        raise ParseError(error.message) from None


_MISSING = object()


def _lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _as_typed(value: Any) -> str | None:
    """A JSON value as a person types it: strings bare, the rest as JSON."""
    if value is _MISSING:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)
