"""The one tokenizer of the shorthand: where the words of a line are, and
where its comment starts.

A word runs to the next whitespace; a quoted string (``"x y"``, ``'x y'``)
or a bracket group (``{"a": [1, 2]}``) inside it keeps its spaces.  ``#``
starts a comment only at the start of a word, outside quotes and brackets,
as in a POSIX shell: ``file=a#b`` keeps its ``#``.  The parser, completion,
the toolbar and the pygments lexer all read lines through :func:`scan`, so
they cannot disagree about a line.

:func:`scan` never raises: a word that cannot be closed (an open quote or
bracket, a stray ``]``) runs to the end of the text and the fault is kept in
:attr:`Words.problem`, for the parser to report and for completion to know
the cursor is inside a value.
"""

from __future__ import annotations

import re

from qmpshell.records import Record
from qmpshell.shorthand.literals import LiteralError, match_end, read_string, scan_group

_SPACE = re.compile(r"\s+")
_BARE = re.compile(r"""[^\s"'\[\]{}]+""")
_KEY = re.compile(r"""[^\s"'\[\]{}#=]+(?==)""")


class Words(Record):
    """The words of a text: spans of ``text``, a comment, a fault."""

    __slots__ = ("text", "spans", "comment", "problem")

    text: str
    spans: tuple[tuple[int, int], ...]
    comment: int | None
    """Index of the ``#`` that starts a comment; None without one."""
    problem: LiteralError | None
    """Why the last word could not be closed; that word runs to the end."""

    def __init__(
        self,
        text: str,
        spans: tuple[tuple[int, int], ...],
        comment: int | None = None,
        problem: LiteralError | None = None,
    ) -> None:
        self.text = text
        self.spans = spans
        self.comment = comment
        self.problem = problem

    @property
    def words(self) -> list[str]:
        return [self.text[start:end] for start, end in self.spans]

    @property
    def open(self) -> bool:
        """The last word is unfinished: inside a quote or a bracket group."""
        return self.problem is not None

    @property
    def code(self) -> str:
        """The text without its comment."""
        return self.text if self.comment is None else self.text[:self.comment]


def scan(text: str) -> Words:
    """The words of ``text`` and where its comment starts (see the module doc)."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i = match_end(_SPACE, text, i)
            continue
        if text[i] == "#":
            return Words(text, tuple(spans), comment=i)
        start = i
        try:
            i = _word_end(text, i)
        except LiteralError as problem:
            spans.append((start, n))
            return Words(text, tuple(spans), problem=problem)
        spans.append((start, i))
    return Words(text, tuple(spans))


def _word_end(text: str, i: int) -> int:
    n = len(text)
    while i < n and not text[i].isspace():
        ch = text[i]
        if ch in "\"'":
            i = read_string(text, i)[1]
        elif ch in "[{":
            i = scan_group(text, i)
        elif ch in "]}":
            raise LiteralError(f"unbalanced '{ch}'", i)
        else:
            i = match_end(_BARE, text, i)
    return i


def strip_comment(line: str) -> str:
    """``line`` without its ``#`` comment (a ``#`` inside a word, quotes or
    JSON is text); a line with an open quote is kept whole."""
    words = scan(line)
    return line if words.open else words.code


def split_key(word: str) -> tuple[str, str] | None:
    """``(key, raw value)`` of a ``key=value`` word; None for any other word."""
    key = _KEY.match(word)
    if key is None:
        return None
    return key.group(), word[key.end() + 1:]


def unquote(raw: str) -> tuple[str, bool]:
    """A value's text with its quotes removed (escapes decoded, pieces
    joined: ``"a b"c`` is ``a bc``), and whether it was one quoted string.

    Raises :class:`LiteralError` for an open quote or bracket."""
    if "'" not in raw and '"' not in raw:
        return raw, False
    parts: list[str] = []
    i = quoted = segments = 0
    while i < len(raw):
        ch = raw[i]
        if ch in "\"'":
            text, end = read_string(raw, i)
            parts.append(text)
            quoted += 1
        else:
            end = scan_group(raw, i) if ch in "[{" else match_end(_BARE, raw, i)
            if end == i:
                raise LiteralError(f"unbalanced '{ch}'", i)
            parts.append(raw[i:end])
        segments += 1
        i = end
    return "".join(parts), segments == 1 and quoted == 1


def segments(raw: str) -> list[tuple[str, str]]:
    """A word cut into its pieces: ``("quote", '"x y"')``, ``("group",
    '{...}')`` and ``("bare", 'abc')``; an unfinished piece runs to the end."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        kind = "quote" if ch in "\"'" else "group" if ch in "[{" else "bare"
        try:
            if kind == "quote":
                end = read_string(raw, i)[1]
            elif kind == "group":
                end = scan_group(raw, i)
            else:
                end = max(match_end(_BARE, raw, i), i + 1)
        except LiteralError:
            end = len(raw)
        out.append((kind, raw[i:end]))
        i = end
    return out
