"""Typing the values of a shorthand line by the schema.

The text ``12345`` is a string for ``password``, an integer for ``cpu-index``
and a JSON number for an ``any`` argument: only the schema can tell, so every
value is converted here, by the type of the argument it is given for, with an
error that names the argument and points at the value when it does not fit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from qmpshell.errors import ParseError
from qmpshell.records import Record
from qmpshell.schema.model import Member, Schema, TypeInfo, suggest
from qmpshell.shorthand.literals import LiteralError, read_literal

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any

INT_MIN = -(2**63)
INT_MAX = 2**64 - 1
"""QMP integers are 64-bit; introspection reports int64 and uint64 alike as 'int'."""

_UNITS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}
_INT = re.compile(
    r"(?P<sign>[+-]?)(?:0[xX](?P<hex>[0-9a-fA-F]+)"
    r"|(?P<num>\d+(?:\.\d+)?)(?P<unit>[kKmMgGtTpPeE]?)(?:i?B)?)",
    re.ASCII,
)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_BOOLS = {"true": True, "on": True, "yes": True, "1": True,
          "false": False, "off": False, "no": False, "0": False}
_LITERAL_WORDS: dict[str, Any] = {"true": True, "false": False, "null": None}
_MAX_DIGITS = 40
_STRING_KINDS = ("str", "file")

MESSAGES = {
    "int": "an integer such as 42, -1, 0x1000 or 4k",
    "size": "a size such as 1G or 4096",
    "number": "a number such as 0.5 or 2",
    "bool": "a boolean (true/false, on/off, yes/no, 1/0)",
    "flag": "a boolean (true/false, on/off, yes/no, 1/0)",
    "null": "null",
    "str": "a string",
    "file": "a file name",
}
"""What a user is told a builtin type expects."""


class Word(Record):
    """A value as typed on the line: ``raw`` is the source text, ``text`` the
    same with quotes removed; ``quoted`` when it was one quoted string."""

    __slots__ = ("text", "raw", "column", "quoted")

    text: str
    raw: str
    column: int
    quoted: bool

    def __init__(self, text: str, raw: str, column: int, quoted: bool = False) -> None:
        self.text = text
        self.raw = raw
        self.column = column
        self.quoted = quoted


class Literal(Record):
    """A value already read (part of a JSON value, or a bare flag)."""

    __slots__ = ("value", "column")

    value: Any
    column: int

    def __init__(self, value: Any, column: int) -> None:
        self.value = value
        self.column = column


class Tree:
    """An object built from dotted keys (``file.driver=... file.filename=...``)."""

    __slots__ = ("column", "items", "columns")

    def __init__(self, column: int, items: dict[str, Node] | None = None,
                 columns: dict[str, int] | None = None) -> None:
        self.column = column
        self.items: dict[str, Node] = {} if items is None else items
        self.columns: dict[str, int] = {} if columns is None else columns

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tree):
            return NotImplemented
        return (self.column, self.items, self.columns) == (other.column, other.items,
                                                           other.columns)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Tree(column={self.column!r}, items={self.items!r}, columns={self.columns!r})"


Node = Word | Literal | Tree


def shown(node: Node) -> str:
    """A value as an error message quotes it: short, one line."""
    if isinstance(node, Tree):
        return "dotted keys"
    if isinstance(node, Word):
        text = node.raw if node.quoted else f"'{node.raw}'"
    else:
        text = json.dumps(node.value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_int(text: str) -> int | None:
    """An integer with an optional binary size suffix (``4k``, ``1.5G``, ``1GiB``,
    ``0x1000``, ``-1``); None when the text is not one or is not whole.
    A number too long for 64 bits comes back just out of range."""
    m = _INT.fullmatch(text)
    if m is None:
        return None
    sign = -1 if m["sign"] == "-" else 1
    if len(text) > _MAX_DIGITS:
        return sign * (INT_MAX + 1)  # too long for 64 bits; not worth converting
    if m["hex"] is not None:
        return sign * int(m["hex"], 16)
    scale = 1 << (10 * _UNITS[m["unit"].lower()])
    if "." not in m["num"]:
        return sign * int(m["num"]) * scale
    if not m["unit"]:
        return None
    from decimal import Decimal, InvalidOperation  # rare (1.5G): not at start-up

    try:
        exact = Decimal(m["num"]) * scale
    except InvalidOperation:
        return None
    return sign * int(exact) if exact == exact.to_integral_value() else None


def parse_number(text: str) -> int | float | None:
    """A JSON number (``2``, ``0.1``, ``1e3``); None when not one or not finite."""
    if _NUMBER.fullmatch(text) is None or len(text) > _MAX_DIGITS:
        return None
    if text.lstrip("+-").isdigit():
        return int(text)
    value = float(text)
    return value if value not in (float("inf"), float("-inf")) else None


def bare_literal(text: str) -> tuple[bool, Any]:
    """``(True, value)`` when an unquoted word is a JSON scalar (``12``, ``true``)."""
    if text in _LITERAL_WORDS:
        return True, _LITERAL_WORDS[text]
    if text and text[0] in "+-.0123456789":
        number = parse_number(text)
        if number is not None and not text.startswith("+"):
            return True, number
    return False, None


class Typer:
    """Converts the nodes of one command's arguments by the schema's types.

    ``where`` prefixes every message (the command or action name);
    ``lenient`` accepts argument names the schema does not list (their
    values typed as ``any``), for servers newer than the schema."""

    def __init__(self, schema: Schema, where: str, *, lenient: bool = False) -> None:
        self.schema = schema
        self.where = where
        self.lenient = lenient

    def fail(self, path: str, message: str, column: int) -> ParseError:
        prefix = f"{self.where}: {path}: " if path else f"{self.where}: "
        return ParseError(prefix + message, column)

    # -- dispatch --------------------------------------------------------
    def convert(self, node: Node, type_name: str, path: str) -> Any:
        """The JSON value for ``node`` as type ``type_name`` (at ``path``)."""
        info = self.schema.resolve(type_name)
        if isinstance(node, Word) and not node.quoted and node.raw.startswith(("[", "{")):
            node = self._read_json(node, path)
        if info.kind == "builtin" and info.builtin == "any":
            return self.any_value(node, path)
        if info.kind == "alternate":
            return self.alternate(node, info, path)
        if isinstance(node, Tree):
            return self.tree(node, info, path)
        if info.kind == "object":
            return self.object_value(node, info, path)
        if info.kind == "array":
            return self.array_value(node, info, path)
        if info.kind == "enum":
            return self.enum_value(node, info, path)
        return self.scalar(node, info.builtin, path)

    def _read_json(self, word: Word, path: str) -> Literal:
        try:
            return Literal(read_literal(word.raw), word.column)
        except LiteralError as err:
            raise self.fail(path, err.message, word.column + err.offset) from None
        except (RecursionError, MemoryError, ValueError):
            raise self.fail(path, "value too large or too deeply nested", word.column) from None

    def expected(self, what: str, node: Node, path: str) -> ParseError:
        column = node.column
        return self.fail(path, f"expected {what}, got {shown(node)}", column)

    # -- scalars ---------------------------------------------------------
    def scalar(self, node: Node, builtin: str, path: str) -> Any:
        """A builtin scalar: str, file, int, size, number, bool, flag, null."""
        what = MESSAGES.get(builtin, builtin)
        if isinstance(node, Literal):
            if _literal_fits(node.value, builtin):
                return self._in_range(node.value, builtin, node, path)
            raise self.expected(what, node, path)
        assert isinstance(node, Word)
        if builtin in _STRING_KINDS:
            return node.text
        value = _word_scalar(node.text, builtin)
        if value is _NO:
            raise self.expected(what, node, path)
        return self._in_range(value, builtin, node, path)

    def _in_range(self, value: Any, builtin: str, node: Node, path: str) -> Any:
        if builtin not in ("int", "size") or isinstance(value, bool):
            return value
        low = 0 if builtin == "size" else INT_MIN
        if not low <= value <= INT_MAX:
            limit = "0" if builtin == "size" and value < 0 else "64 bits"
            long = isinstance(node, Word) and len(node.raw) > 30
            shown_value = shown(node) if long else str(value)
            raise self.fail(path, f"{shown_value} is out of range ({limit})", node.column)
        return value

    def enum_value(self, node: Word | Literal, info: TypeInfo, path: str) -> str:
        value = node.text if isinstance(node, Word) else node.value
        if isinstance(value, str) and value in info.values:
            return value
        allowed = ", ".join(info.values[:12]) + (", ..." if len(info.values) > 12 else "")
        message = f"expected one of: {allowed}; got {shown(node)}"
        hints = suggest(value, info.values, 1) if isinstance(value, str) else []
        if hints:
            message += f" (did you mean '{hints[0]}'?)"
        raise self.fail(path, message, node.column)

    # -- any -------------------------------------------------------------
    def any_value(self, node: Node, path: str) -> Any:
        """JSON when the text is JSON (``12``, ``true``, ``[1]``), else the string."""
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Tree):
            return {k: self.any_value(v, _join(path, k)) for k, v in node.items.items()}
        if node.quoted:
            return node.text
        if node.raw.startswith(("[", "{")):
            return self._read_json(node, path).value
        found, value = bare_literal(node.raw)
        return value if found else node.text

    # -- alternates ------------------------------------------------------
    def alternate(self, node: Node, info: TypeInfo, path: str) -> Any:
        """The first alternative the value fits, trying the most specific first."""
        kinds = [(self.schema.resolve(a), a) for a in info.alternatives]
        for alt_info, alt_name in sorted(kinds, key=lambda k: _alt_rank(k[0], node)):
            if not _alt_accepts(alt_info, node):
                continue
            if isinstance(node, (Tree, Literal)) or alt_info.kind != "builtin":
                return self.convert(node, alt_name, path)
            if alt_info.builtin == "any":
                return self.any_value(node, path)
            value = _word_scalar(node.text, alt_info.builtin, strict=True)
            if alt_info.builtin in _STRING_KINDS:
                return node.text
            if value is not _NO:
                return self._in_range(value, alt_info.builtin, node, path)
        raise self.expected(self.schema.describe(info.name), node, path)

    # -- arrays ----------------------------------------------------------
    def array_value(self, node: Node, info: TypeInfo, path: str) -> list[Any]:
        if isinstance(node, Literal) and isinstance(node.value, list):
            return [self.convert(Literal(v, node.column), info.element, _join(path, str(i)))
                    for i, v in enumerate(node.value)]
        raise self.expected(f"a list such as [...] ({self.schema.describe(info.name)})",
                            node, path)

    def _array_tree(self, tree: Tree, info: TypeInfo, path: str) -> list[Any]:
        """``keys.0=a keys.1=b``: a list from dotted keys numbered from 0."""
        expected = [str(i) for i in range(len(tree.items))]
        if sorted(tree.items, key=_index_key) != expected:
            raise self.fail(path, "list items must be numbered 0, 1, 2...", tree.column)
        return [self.convert(tree.items[k], info.element, _join(path, k)) for k in expected]

    # -- objects ---------------------------------------------------------
    def tree(self, tree: Tree, info: TypeInfo, path: str) -> Any:
        if info.kind == "object":
            return self.members(tree.items, info, path, tree.column, tree.columns)
        if info.kind == "array":
            return self._array_tree(tree, info, path)
        raise self.fail(path, f"expected {self.schema.describe(info.name)}, "
                              "got dotted keys", tree.column)

    def object_value(self, node: Node, info: TypeInfo, path: str) -> dict[str, Any]:
        if isinstance(node, Literal) and isinstance(node.value, dict):
            items: dict[str, Node] = {k: Literal(v, node.column) for k, v in node.value.items()}
            return self.members(items, info, path, node.column, {})
        hint = f"{path}.MEMBER=... or {{...}}" if path else "{...}"
        raise self.expected(f"an object ({hint})", node, path)

    def members(self, items: Mapping[str, Node], info: TypeInfo, path: str,
                column: int, columns: Mapping[str, int]) -> dict[str, Any]:
        """Check and convert an object's members, union branches included."""
        items = self._free_form(items, info, column)
        known = {m.name: m for m in info.members}
        result: dict[str, Any] = {}
        self._branches(items, info, known, result, path, column)
        for key, node in items.items():
            if key in result:
                continue
            member = known.get(key)
            where = _join(path, key)
            if member is not None:
                result[key] = self.convert(node, member.type, where)
            elif info.open or self.lenient:
                result[key] = self.any_value(node, where)
            else:
                raise self._unknown(where, list(known), path, columns.get(key, column))
        for member in known.values():
            if not member.optional and member.name not in result:
                raise self._missing(_join(path, member.name), member, column)
        return result

    def _branches(self, items: Mapping[str, Node], info: TypeInfo, known: dict[str, Member],
                  result: dict[str, Any], path: str, column: int) -> None:
        """Follow the discriminators: add the chosen branches' members to ``known``."""
        current = info
        while current.tag:
            tag = known.get(current.tag) or Member(current.tag, "str")
            node = items.get(current.tag)
            if node is None:
                raise self._missing(_join(path, current.tag), tag, column)
            value = result[current.tag] = self.convert(node, tag.type, _join(path, tag.name))
            branch = current.variant_type(value) if isinstance(value, str) else None
            if branch is None:
                return
            current = self.schema.resolve(branch)
            for member in current.members:
                known.setdefault(member.name, member)

    def _free_form(self, items: Mapping[str, Node], info: TypeInfo,
                   column: int) -> Mapping[str, Node]:
        """QEMU's object-add before 6.0 took an object's properties under
        'props': there, keys the command does not list go into 'props'."""
        props = info.member("props")
        if info.open or props is None or self.schema.resolve(props.type).builtin != "any":
            return items
        extra = [k for k in items if info.member(k) is None]
        if not extra:
            return items
        given = items.get("props")
        if given is not None and not isinstance(given, Tree):
            raise self.fail("", f"'{extra[0]}' given besides props=...; use props.{extra[0]}",
                            column)
        moved = Tree(column, dict(given.items) if given else {})
        moved.items.update({k: items[k] for k in extra})
        kept = {k: v for k, v in items.items() if k not in extra and k != "props"}
        return {**kept, "props": moved}

    def _unknown(self, where: str, names: list[str], path: str, column: int) -> ParseError:
        message = f"unknown argument '{where}'"
        hints = suggest(where.rsplit(".", 1)[-1], names, 1)
        if hints:
            message += f" (did you mean '{_join(path, hints[0])}'?)"
        return self.fail("", message, column)

    def _missing(self, where: str, member: Member, column: int) -> ParseError:
        kind = self.schema.describe(member.type)
        return self.fail("", f"missing required argument '{where}' ({kind})", column)


class _Missing:
    """Marks 'not a value of this type' (None is a valid value: JSON null)."""


_NO: Any = _Missing()


def _word_scalar(text: str, builtin: str, strict: bool = False) -> Any:
    """The typed text of a word, or ``_NO``; ``strict`` limits booleans to
    true/false (inside an alternate, where 'on' may be meant as a string)."""
    if builtin in ("int", "size"):
        value = parse_int(text)
        return _NO if value is None else value
    if builtin == "number":
        number = parse_number(text)
        return _NO if number is None else number
    if builtin in ("bool", "flag"):
        if strict:
            return _LITERAL_WORDS.get(text, _NO) if text != "null" else _NO
        return _BOOLS.get(text.lower(), _NO)
    if builtin == "null":
        return None if text == "null" else _NO
    return text


def _literal_fits(value: Any, builtin: str) -> bool:
    if builtin in ("int", "size"):
        return isinstance(value, int) and not isinstance(value, bool)
    if builtin == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if builtin in ("bool", "flag"):
        return isinstance(value, bool)
    if builtin == "null":
        return value is None
    return isinstance(value, str)


_RANKS = {"null": 0, "bool": 1, "flag": 1, "int": 2, "size": 2, "number": 3,
          "str": 6, "file": 6, "any": 7}


def _alt_rank(info: TypeInfo, node: Node) -> int:
    """Try order for alternatives: a quoted word means a string or enum first."""
    if info.kind == "enum":
        return 0 if isinstance(node, Word) and node.quoted else 5
    if info.kind != "builtin":
        return 4
    rank = _RANKS.get(info.builtin, 7)
    quoted = isinstance(node, Word) and node.quoted
    return rank - 6 if quoted and info.builtin in _STRING_KINDS else rank


def _alt_accepts(info: TypeInfo, node: Node) -> bool:
    """Whether an alternative can take the node at all (by its shape)."""
    if isinstance(node, Tree):
        return info.kind in ("object", "array") or info.builtin == "any"
    if isinstance(node, Literal):
        value = node.value
        if info.kind == "object":
            return isinstance(value, dict)
        if info.kind == "array":
            return isinstance(value, list)
        if info.kind == "enum":
            return isinstance(value, str) and value in info.values
        if info.kind == "alternate":
            return True
        return info.builtin == "any" or _literal_fits(value, info.builtin)
    if info.kind == "enum":
        return node.text in info.values
    return info.kind == "builtin"


def _index_key(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() and len(key) < 10 else (-1, key)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
