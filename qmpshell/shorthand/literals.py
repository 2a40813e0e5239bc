"""Reading JSON and Python-style literals without evaluating anything.

Users of QEMU's ``qmp-shell`` type ``{'driver': 'file', 'ro': True}`` as often
as JSON.  One small reader accepts both, so that a value typed either way
means the same thing.  It is bounded in nesting depth and number length, so
no input can exhaust the stack, hang it, or build a ten-thousand-digit int.
"""

from __future__ import annotations

import math
import re

MAX_DEPTH = 64
"""Deepest nesting of lists/objects accepted (QMP values are shallow)."""

MAX_NUMBER_CHARS = 100
"""Longest number accepted; far beyond 64 bits, far below int() limits."""

_ESCAPES = {
    '"': '"', "'": "'", "\\": "\\", "/": "/",
    "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
}
_CHUNK = {'"': re.compile(r'[^"\\]*'), "'": re.compile(r"[^'\\]*")}
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_SPACE = re.compile(r"\s*")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_WORD = re.compile(r"[A-Za-z_]\w*")
_KEYWORDS: dict[str, object] = {
    "true": True, "false": False, "null": None,
    "True": True, "False": False, "None": None,
}
_CLOSERS = {"[": "]", "{": "}"}


class LiteralError(ValueError):
    """Text that is not a literal; ``offset`` is the 0-based index of the fault."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def match_end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where ``pattern`` matching at ``pos`` ends (``pos`` when it does not match)."""
    found = pattern.match(text, pos)
    return found.end() if found else pos


def read_string(text: str, pos: int) -> tuple[str, int]:
    """Decode the quoted string starting at ``text[pos]`` (a quote character).

    Returns the contents and the index just past the closing quote.  JSON
    escapes are decoded (surrogate pairs joined); an unknown escape such as
    ``\\d`` is kept as typed, so Windows paths survive."""
    quote = text[pos]
    chunk = _CHUNK[quote]
    parts: list[str] = []
    i = pos + 1
    while True:
        end = match_end(chunk, text, i)
        parts.append(text[i:end])
        if end >= len(text):
            raise LiteralError(f"unbalanced {quote} (no closing quote)", pos)
        if text[end] == quote:
            return "".join(parts), end + 1
        decoded, i = _escape(text, end)
        parts.append(decoded)


def _escape(text: str, pos: int) -> tuple[str, int]:
    """Decode the backslash escape at ``text[pos]``."""
    if pos + 1 >= len(text):
        return "\\", pos + 1
    ch = text[pos + 1]
    if ch in _ESCAPES:
        return _ESCAPES[ch], pos + 2
    if ch != "u" or not _HEX4.match(text, pos + 2):
        return "\\" + ch, pos + 2
    code = int(text[pos + 2:pos + 6], 16)
    end = pos + 6
    if 0xD800 <= code < 0xDC00 and text.startswith("\\u", end) and _HEX4.match(text, end + 2):
        low = int(text[end + 2:end + 6], 16)
        if 0xDC00 <= low < 0xE000:
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), end + 6
    return chr(code), end


def scan_group(text: str, pos: int) -> int:
    """The index just past the bracket group opened at ``text[pos]``.

    Tracks nesting and quotes only, so it finds where a JSON (or JSON-ish)
    value typed on a line ends even when the value itself is not valid."""
    stack: list[tuple[str, int]] = []
    i = pos
    while i < len(text):
        ch = text[i]
        if ch in _CLOSERS:
            stack.append((_CLOSERS[ch], i))
        elif ch in "]}":
            if not stack or stack[-1][0] != ch:
                raise LiteralError(f"unbalanced '{ch}'", i)
            stack.pop()
            if not stack:
                return i + 1
        elif ch in "\"'":
            i = read_string(text, i)[1]
            continue
        i += 1
    closer, opened = stack[-1]
    raise LiteralError(f"unbalanced '{text[opened]}' (no closing '{closer}')", opened)


def read_literal(text: str) -> object:
    """The value of ``text``: JSON, or a Python-style literal of the same shapes."""
    value, end = _value(text, _skip(text, 0), 0)
    end = _skip(text, end)
    if end != len(text):
        raise LiteralError(f"unexpected {text[end]!r} after the value", end)
    return value


def _skip(text: str, pos: int) -> int:
    return match_end(_SPACE, text, pos)


def _value(text: str, pos: int, depth: int) -> tuple[object, int]:
    """Read one value at ``pos`` (no leading space); return it and its end."""
    if pos >= len(text):
        raise LiteralError("expected a value", pos)
    ch = text[pos]
    if ch in "[{":
        if depth >= MAX_DEPTH:
            raise LiteralError(f"nested more than {MAX_DEPTH} levels deep", pos)
        if ch == "[":
            return _list(text, pos, depth + 1)
        return _object(text, pos, depth + 1)
    if ch in "\"'":
        return read_string(text, pos)
    number = _NUMBER.match(text, pos)
    if number:
        return _number(number.group(), pos), number.end()
    word = _WORD.match(text, pos)
    if word and word.group() in _KEYWORDS:
        return _KEYWORDS[word.group()], word.end()
    shown = word.group() if word else ch
    raise LiteralError(f"unexpected {shown!r}", pos)


def _number(token: str, pos: int) -> int | float:
    if len(token) > MAX_NUMBER_CHARS:
        raise LiteralError("number out of range", pos)
    if token.strip("+-").isdigit():
        return int(token)
    value = float(token)
    if not math.isfinite(value):
        raise LiteralError("number out of range", pos)
    return value


def _list(text: str, pos: int, depth: int) -> tuple[list[object], int]:
    items: list[object] = []
    i = _skip(text, pos + 1)
    while not text.startswith("]", i):
        item, i = _value(text, i, depth)
        items.append(item)
        i = _after_item(text, i, "]")
    return items, i + 1


def _object(text: str, pos: int, depth: int) -> tuple[dict[str, object], int]:
    items: dict[str, object] = {}
    i = _skip(text, pos + 1)
    while not text.startswith("}", i):
        if i >= len(text) or text[i] not in "\"'":
            raise LiteralError("expected a quoted key or '}'", i)
        key, i = read_string(text, i)
        if key in items:
            raise LiteralError(f"duplicate key {key!r}", i)
        i = _skip(text, i)
        if not text.startswith(":", i):
            raise LiteralError("expected ':' after the key", i)
        items[key], i = _value(text, _skip(text, i + 1), depth)
        i = _after_item(text, i, "}")
    return items, i + 1


def _after_item(text: str, pos: int, closer: str) -> int:
    """Skip the ',' after an item (a trailing one is allowed, as in Python)."""
    i = _skip(text, pos)
    if text.startswith(",", i):
        return _skip(text, i + 1)
    if text.startswith(closer, i):
        return i
    raise LiteralError(f"expected ',' or '{closer}'", i)
