"""A pygments lexer for qmpshell's shorthand (session files and the prompt).

It reads each line's words through the one tokenizer
(:func:`qmpshell.shorthand.words.scan`), as the parser does, and colours them
by their look: command, ``key``, ``=``, values (number or size, boolean,
quoted string, JSON), comments, dot-commands and ``transaction(`` ... ``)``.
What a value *means* is the parser's business.  Given a schema
(``ShorthandLexer(schema=...)``, as the prompt does) a command the schema does
not know is shown in the error style; the pygments plugin (``pygmentize -l
qmpshell``) has no schema and does not.

Space between words is ``Whitespace``; space inside a word (in quotes or
JSON) never is, so the words the lexer shows are the words the parser reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from pygments.lexer import Lexer
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
    _TokenType,
)

from qmpshell.shorthand.words import scan, segments, split_key

Token = tuple[int, _TokenType, str]

_LINES = re.compile(r"[^\n]+\n?|\n")
"""Lines end at '\n' only, as the parser splits them."""
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.+-]*")
_FLAG = re.compile(r"[\w][\w.-]*")
_VALUE_LOOKS: tuple[tuple[re.Pattern[str], _TokenType], ...] = (
    (re.compile(r"true|false|on|off|yes|no|null"), Keyword.Constant),
    (re.compile(r"[-+]?0[xX][0-9a-fA-F]+"), Number.Hex),
    (re.compile(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?"), Number),
    (re.compile(r"[-+]?\d+(\.\d+)?[kKmMgGtTpPeE]i?[bB]?"), Number),
)
_JSON = re.compile(r"""
    (?P<space>\s+)
  | (?P<punct>[{}\[\]:,])
  | (?P<key>"(?:\\.|[^"\\])*"(?=\s*:)|'(?:\\.|[^'\\])*'(?=\s*:))
  | (?P<double>"(?:\\.|[^"\\])*"?)
  | (?P<single>'(?:\\.|[^'\\])*'?)
  | (?P<constant>(?:true|false|null|True|False|None)(?![\w]))
  | (?P<number>[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.]))
  | (?P<other>[^\s{}\[\]"',:]+)
""", re.VERBOSE)
_JSON_TOKENS: dict[str, _TokenType] = {
    "space": Text, "punct": Punctuation, "key": Name.Tag, "double": String.Double,
    "single": String.Single, "constant": Keyword.Constant, "number": Number, "other": Error,
}


class ShorthandLexer(Lexer):
    """Lexer for qmpshell shorthand: ``command key=value ...`` lines."""

    name = "qmpshell"
    aliases: ClassVar[list[str]] = ["qmpshell", "qmp"]
    filenames: ClassVar[list[str]] = ["*.qmp"]
    mimetypes: ClassVar[list[str]] = ["text/x-qmpshell"]
    url = "https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html"

    def get_tokens_unprocessed(self, text: str) -> Iterator[Token]:
        """Line by line; ``transaction(`` ... ``)`` may span lines (the
        ``transaction`` option: the text starts inside one)."""
        schema = self.options.get("schema")
        line = _Line(schema, bool(self.options.get("transaction", False)))
        offset = 0
        for piece in _LINES.findall(text):
            body = piece.rstrip("\r\n")
            yield from line.tokens(body, offset)
            if len(body) < len(piece):
                yield offset + len(body), Whitespace, piece[len(body):]
            offset += len(piece)


class _Line:
    """Colours the words of one line at a time, knowing whether a
    ``transaction(`` is open (actions are not commands)."""

    def __init__(self, schema: Any, transaction: bool) -> None:
        self.schema = schema
        self.transaction = transaction
        self.role = "first"

    def tokens(self, body: str, base: int) -> Iterator[Token]:
        scanned = scan(body)
        self.role = "action" if self.transaction else "first"
        words = scanned.words
        pos = 0
        for i, (start, end) in enumerate(scanned.spans):
            if start > pos:
                yield base + pos, Whitespace, body[pos:start]
            following = words[i + 1] if i + 1 < len(words) else ""
            yield from self.word(body[start:end], base + start, following)
            pos = end
        tail = len(body) if scanned.comment is None else scanned.comment
        if tail > pos:
            yield base + pos, Whitespace, body[pos:tail]
        if scanned.comment is not None:
            yield base + scanned.comment, Comment.Single, body[scanned.comment:]

    def word(self, word: str, at: int, following: str) -> Iterator[Token]:
        role = self.role
        if role == "paren" and word == "(":
            self.transaction, self.role = True, "action"
            yield at, Punctuation, word
        elif role in ("first", "action"):
            yield from self.first(word, at, following)
        elif role == "dot-args":
            yield from _pair(word, at, String.Other)
        else:
            yield from self.argument(word, at)

    def first(self, word: str, at: int, following: str) -> Iterator[Token]:
        """The first word of a line or of a transaction action."""
        self.role = "args"
        if word.startswith("@") and len(word) > 1 and not self.transaction:
            self.role = "first"  # @VM line: the line after it is read as usual
            yield at, Name.Label, word
        elif word.startswith(".") and not self.transaction:
            self.role = "dot-args"
            yield at, Keyword.Pseudo, word
        elif word == "transaction(" and not self.transaction:
            self.transaction, self.role = True, "action"
            yield at, Keyword, "transaction"
            yield at + len("transaction"), Punctuation, "("
        elif word == "transaction" and following == "(" and not self.transaction:
            self.role = "paren"
            yield at, Keyword, word
        elif word in (")", ";"):
            yield from self.argument(word, at)
        elif word[0] in "{[":
            yield from _json(word, at)
        elif _NAME.fullmatch(word):
            unknown = (self.schema is not None and not self.transaction
                       and self.schema.command(word) is None)
            yield at, Error if unknown else Name.Function, word
        else:
            yield at, Text, word

    def argument(self, word: str, at: int) -> Iterator[Token]:
        if word == ")":
            self.transaction = False
            yield at, Punctuation, word
        elif word == ";":
            if self.transaction:
                self.role = "action"
            yield at, Punctuation, word
        elif word == "?":
            yield at, Operator, word
        elif _FLAG.fullmatch(word):
            yield at, Name.Attribute, word
        else:
            yield from _pair(word, at, Text)


def _pair(word: str, at: int, other: _TokenType) -> Iterator[Token]:
    """``key=value`` as key, ``=`` and the value; any other word as ``other``."""
    pair = split_key(word)
    if pair is None:
        yield at, other, word
        return
    key, raw = pair
    yield at, Name.Attribute, key
    yield at + len(key), Operator, "="
    yield from _value(raw, at + len(key) + 1)


def _value(raw: str, at: int) -> Iterator[Token]:
    """A value by its look; one made of pieces (``"a"b``) piece by piece."""
    pieces = segments(raw)
    whole = len(pieces) == 1
    for kind, text in pieces:
        if kind == "quote":
            yield at, String.Double if text[0] == '"' else String.Single, text
        elif kind == "group":
            yield from _json(text, at)
        else:
            yield at, _bare_value(text) if whole else Text, text
        at += len(text)


def _bare_value(text: str) -> _TokenType:
    for pattern, token in _VALUE_LOOKS:
        if pattern.fullmatch(text):
            return token
    return String


def _json(text: str, at: int) -> Iterator[Token]:
    """A JSON (or Python-style) value, spaces inside it included."""
    pos = 0
    while pos < len(text):
        found = _JSON.match(text, pos)
        if found is None or not found.lastgroup:
            yield at + pos, Error, text[pos:]
            return
        yield at + pos, _JSON_TOKENS[found.lastgroup], found.group()
        pos = found.end()
