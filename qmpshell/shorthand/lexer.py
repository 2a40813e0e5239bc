"""A pygments lexer for qmpshell's shorthand (session files and the prompt).

It only tokenizes: command, ``key``, ``=``, values by their look (number or
size, boolean, quoted string, JSON), comments, dot-commands and
``transaction(`` ... ``)``.  What a value *means* is the shorthand parser's
business.  Given a schema (``ShorthandLexer(schema=...)``, as the prompt
does) a command the schema does not know is shown in the error style; the
pygments plugin (``pygmentize -l qmpshell``) has no schema and does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from pygments.lexer import RegexLexer, bygroups, default, include
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

_END = r"(?=[\s)]|$)"
"""Where a bare value ends: whitespace or a closing ')'.  A ``#`` inside a
word is text (``file=a#b``), as the shorthand parser reads it."""

_COMMENT = r"(?<!\S)#.*"
"""A comment: ``#`` at the start of a word, outside quotes and JSON."""


class ShorthandLexer(RegexLexer):
    """Lexer for qmpshell shorthand: ``command key=value ...`` lines."""

    name = "qmpshell"
    aliases: ClassVar[list[str]] = ["qmpshell", "qmp"]
    filenames: ClassVar[list[str]] = ["*.qmp"]
    mimetypes: ClassVar[list[str]] = ["text/x-qmpshell"]
    url = "https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html"

    tokens: ClassVar[dict[str, Any]] = {
        "root": [
            (r"\n", Whitespace),
            (r"[^\S\n]+", Whitespace),
            (_COMMENT, Comment.Single),
            (r"(\.[\w-]+)", Keyword.Pseudo, "dot-args"),
            (r"(transaction)(\()", bygroups(Keyword, Punctuation), "args"),
            (r"\)", Punctuation),
            (r"[{\[]", Punctuation, ("line-end", "json")),
            (r"[\w][\w.-]*" + _END, Name.Function, "args"),
            (r"\S+", Text, "args"),
        ],
        "line-end": [
            (r"\n", Whitespace, "#pop"),
            include("tail"),
        ],
        "tail": [
            (r"[^\S\n]+", Whitespace),
            (_COMMENT, Comment.Single),
            (r"\)", Punctuation),
        ],
        "args": [
            (r"\n", Whitespace, "#pop"),
            include("tail"),
            (r"\?" + _END, Operator),
            (r"([\w][\w.-]*)(=)", bygroups(Name.Attribute, Operator), "value"),
            (r"[\w][\w.-]*" + _END, Name.Attribute),
            (r"[^\s)]+", Text),
        ],
        "dot-args": [
            (r"\n", Whitespace, "#pop"),
            (r"[^\S\n]+", Whitespace),
            (_COMMENT, Comment.Single),
            (r"([\w][\w.-]*)(=)", bygroups(Name.Attribute, Operator), "value"),
            (r"\S+", String.Other),
        ],
        "value": [
            (r'"(\\\\|\\"|[^"\n])*"?', String.Double, "#pop"),
            (r"'[^'\n]*'?", String.Single, "#pop"),
            (r"[{\[]", Punctuation, ("#pop", "json")),
            (r"(true|false|on|off|yes|no)" + _END, Keyword.Constant, "#pop"),
            (r"null" + _END, Keyword.Constant, "#pop"),
            (r"[-+]?0[xX][0-9a-fA-F]+" + _END, Number.Hex, "#pop"),
            (r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?" + _END, Number, "#pop"),
            (r"[-+]?\d+(\.\d+)?[kKmMgGtTpPeE]i?[bB]?" + _END, Number, "#pop"),
            (r"[^\s)]+", String, "#pop"),
            default("#pop"),
        ],
        "json": [
            (r"\s+", Whitespace),
            (r"[{\[]", Punctuation, "#push"),
            (r"[}\]]", Punctuation, "#pop"),
            (r'"(\\\\|\\"|[^"\n])*"(?=\s*:)', Name.Tag),
            (r'"(\\\\|\\"|[^"\n])*"?', String.Double),
            (r"(true|false|null)\b", Keyword.Constant),
            (r"-?\d+(\.\d+)?([eE][-+]?\d+)?", Number),
            (r"[:,]", Punctuation),
            (r"[^\s{}\[\]\",:]+", Error),
        ],
    }

    def get_tokens_unprocessed(
        self, text: str, stack: tuple[str, ...] = ("root",)
    ) -> Iterator[tuple[int, _TokenType, str]]:
        """The regex tokens, with unknown commands turned into errors when a
        schema was given (not for the actions inside a transaction)."""
        schema = self.options.get("schema")
        in_transaction = bool(self.options.get("transaction", False))
        for index, token, value in super().get_tokens_unprocessed(text, stack):
            if token is Keyword and value == "transaction":
                in_transaction = True
            elif token is Punctuation and value == ")":
                in_transaction = False
            elif (token is Name.Function and schema is not None and not in_transaction
                    and schema.command(value) is None):
                token = Error
            yield index, token, value
