"""One tokenizer: the parser, completion, the lexer and the toolbar read the
same words and the same comment in any line, ``#`` inside words, quotes,
brackets and ``transaction( ... ; ... )`` included."""

from __future__ import annotations

import json
from typing import Any

from helpers.schemas import make_schema
from hypothesis import given
from hypothesis import strategies as st
from pygments.token import Comment, Whitespace

from qmpshell.prompt.completion import read_words, split_words, static_candidates, suggest
from qmpshell.prompt.toolbar import toolbar_fragments
from qmpshell.shorthand.lexer import ShorthandLexer
from qmpshell.shorthand.parser import _tokens, parse_line
from qmpshell.shorthand.words import scan, split_key, strip_comment, unquote

SCHEMA = make_schema()

# -- generated lines: the words they are made of, and where the comment starts --
BARE = st.text(st.sampled_from("abz09_-./:#=;)?é"), min_size=1, max_size=6)
INSIDE_QUOTES = st.sampled_from("ab #=;)[]{}\t'é")


def _quoted(quote: str, body: str) -> str:
    return quote + body.replace(quote, "") + quote


QUOTED = st.builds(_quoted, st.sampled_from("\"'"), st.text(INSIDE_QUOTES, max_size=6))
ESCAPED = st.text(INSIDE_QUOTES, max_size=4).map(lambda body: json.dumps(body + '"\\'))
SCALARS = st.none() | st.booleans() | st.integers(-99, 99) | st.text(INSIDE_QUOTES, max_size=5)
GROUP_VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(INSIDE_QUOTES, max_size=4), inner, max_size=3), max_leaves=6)
GROUP = st.one_of(
    st.lists(GROUP_VALUES, max_size=3).map(json.dumps),
    st.dictionaries(st.text(INSIDE_QUOTES, max_size=4), GROUP_VALUES, max_size=3)
    .map(lambda d: json.dumps(d, ensure_ascii=False)),
    st.lists(st.integers(0, 9), max_size=3).map(repr),  # Python style: [1, 2]
)
PIECES = st.lists(st.one_of(BARE, QUOTED, ESCAPED, GROUP), min_size=1, max_size=3).map("".join)
WORD = PIECES.filter(lambda w: not w.startswith("#"))
KEY = st.from_regex(r"[a-z][a-z0-9_-]{0,5}(\.[a-z][a-z0-9-]{0,4})?", fullmatch=True)
KEY_VALUE = st.builds(lambda k, v: f"{k}={v}", KEY, PIECES)
MARKS = st.sampled_from(["transaction(", "transaction", "(", ";", ")", "?", ".echo"])
SPACE = st.text(st.sampled_from(" \t"), min_size=1, max_size=3)
COMMENT = st.text(st.sampled_from("ab #=\"'[{;)é"), max_size=8).map(lambda c: "#" + c)


@st.composite
def lines(draw: st.DrawFn) -> tuple[str, list[str], list[int], int | None]:
    """A line, its words, where each starts, and where its comment starts."""
    words = draw(st.lists(st.one_of(WORD, KEY_VALUE, MARKS), max_size=6))
    text = draw(st.sampled_from(["", " ", "\t "]))
    starts = []
    for i, word in enumerate(words):
        if i:
            text += draw(SPACE)
        starts.append(len(text))
        text += word
    comment = None
    if draw(st.booleans()):
        text += draw(SPACE) if words else ""
        comment = len(text)
        text += draw(COMMENT)
    else:
        text += draw(st.sampled_from(["", " ", "  "]))
    return text, words, starts, comment


# -- what each reader says ----------------------------------------------------------
def lexer_reading(text: str) -> tuple[list[str], int | None]:
    """Words as the lexer shows them: runs of tokens between Whitespace."""
    words: list[str] = []
    joined = False
    comment = None
    for index, token, value in ShorthandLexer().get_tokens_unprocessed(text):
        if token in Comment:
            comment = index if comment is None else comment
            joined = False
        elif token in Whitespace:
            joined = False
        elif joined:
            words[-1] += value
        else:
            words.append(value)
            joined = True
    return words, comment


@given(lines())
def test_every_reader_agrees_on_words_and_comment(
        case: tuple[str, list[str], list[int], int | None]) -> None:
    text, words, starts, comment = case
    scanned = scan(text)
    assert (scanned.words, scanned.comment, scanned.problem) == (words, comment, None)
    assert [s for s, _ in scanned.spans] == starts
    # the parser
    assert [(t.raw, t.column) for t in _tokens(text)] == [(w, s + 1) for w, s in
                                                          zip(words, starts, strict=True)]
    # completion's word split (the toolbar reads lines through it too)
    read = read_words(text)
    assert [*read.done, *([read.current] if read.current else [])] == words
    assert read.comment == (comment is not None)
    assert (split_words(text) is None) == (comment is not None)
    # the lexer, which also keeps every character
    assert lexer_reading(text) == (words, comment)
    assert "".join(v for _, _, v in ShorthandLexer().get_tokens_unprocessed(text)) == text
    assert strip_comment(text) == (text if comment is None else text[:comment])


def toolbar_text(line: str) -> str:
    return "".join(t for _, t in toolbar_fragments(line, SCHEMA))


def toolbar_errors(line: str) -> list[str]:
    return [t for style, t in toolbar_fragments(line, SCHEMA) if style == "class:toolbar.error"]


@given(WORD, st.none() | COMMENT)
def test_toolbar_completion_and_parser_read_a_value_alike(value: str,
                                                          comment: str | None) -> None:
    """Whatever the device value looks like (``#`` in it, quotes, JSON), the
    toolbar finds size given, completion offers the other arguments, and
    the parser gives the value to device; a comment after it is a comment."""
    line = f"block_resize device={value} size=1G"
    assert toolbar_errors(line + (f" {comment}" if comment else "")) == []
    if comment is None:
        offered = [c.text for c in static_candidates(suggest(line + " ", SCHEMA), SCHEMA)]
        assert offered == ["node-name="]
    else:
        assert suggest(f"{line} {comment}", SCHEMA).kind == "none"
    text, quoted = unquote(split_key(f"device={value}")[1])  # type: ignore[index]
    try:
        request = parse_line(f"{line} {comment or ''}", SCHEMA)
    except Exception as error:  # a JSON-looking value is not a string: a value error
        assert "device" in str(error)
    else:
        assert request is not None and request["arguments"]["size"] == 1 << 30
        assert request["arguments"]["device"] == text or not quoted


def test_hash_inside_a_word_is_not_a_comment_anywhere() -> None:
    """The regression: the parser reads device='a#b'; the toolbar saw a
    comment there and said size was missing, completion offered nothing."""
    line = "block_resize device=a#b size=1G"
    assert parse_line(line, SCHEMA) == {
        "execute": "block_resize", "arguments": {"device": "a#b", "size": 1 << 30}}
    assert "missing" not in toolbar_text(line) and toolbar_errors(line) == []
    assert [c.text for c in static_candidates(suggest(line + " ", SCHEMA), SCHEMA)] == [
        "node-name="]
    assert toolbar_text(line + " # size=2G").count("missing") == 0
    assert "missing: size" in toolbar_text("block_resize device=a #size=1G")


def test_an_open_quote_or_bracket_runs_to_the_end() -> None:
    scanned = scan('cmd a="x # y')
    assert scanned.words == ["cmd", 'a="x # y'] and scanned.comment is None and scanned.open
    assert scan("cmd a=[1, 2 # x").words == ["cmd", "a=[1, 2 # x"]
    assert scan("cmd a]b c").problem is not None
    assert split_words('cmd a="x y').open  # type: ignore[union-attr]
