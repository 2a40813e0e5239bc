"""The shorthand lexer: tokens by look, the error style for unknown commands
with a schema, and the pygments plugin registration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
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
)

from qmpshell.schema.model import Command, Schema
from qmpshell.shorthand.lexer import ShorthandLexer


def tokens(text: str, **options: object) -> list[tuple[object, str]]:
    lexer = ShorthandLexer(**options)
    return [(t, v) for t, v in lexer.get_tokens(text) if v.strip()]


def test_command_keys_and_values_by_look() -> None:
    assert tokens("block_resize device=scratch size=1G") == [
        (Name.Function, "block_resize"),
        (Name.Attribute, "device"), (Operator, "="), (String, "scratch"),
        (Name.Attribute, "size"), (Operator, "="), (Number, "1G"),
    ]


def test_booleans_numbers_quoted_strings() -> None:
    got = tokens('cmd a=true b=off c=-12 d=0x1f e=1.5 f="x y" g=\'z\' h=null')
    values = [(t, v) for t, v in got if t not in (Name.Attribute, Operator, Name.Function)]
    assert values == [
        (Keyword.Constant, "true"), (Keyword.Constant, "off"), (Number, "-12"),
        (Number.Hex, "0x1f"), (Number, "1.5"), (String.Double, '"x y"'),
        (String.Single, "'z'"), (Keyword.Constant, "null"),
    ]


def test_nested_keys_are_one_key() -> None:
    assert (Name.Attribute, "file.filename") in tokens("blockdev-add file.filename=/x")


def test_json_value_and_raw_json_line() -> None:
    got = tokens('cmd keys=[{"type": "qcode", "data": "ctrl"}] x=1')
    assert (Name.Tag, '"type"') in got and (String.Double, '"qcode"') in got
    assert got[-3:] == [(Name.Attribute, "x"), (Operator, "="), (Number, "1")]
    raw = tokens('{"execute": "query-status"}\nstop')
    assert raw[0] == (Punctuation, "{") and (Name.Tag, '"execute"') in raw
    assert raw[-1] == (Name.Function, "stop")


def test_comments_dot_commands_transaction() -> None:
    text = "# a comment\n.wait STOP timeout=5\ntransaction(\n abort\n)\nstop # why\n"
    got = tokens(text)
    assert got[0] == (Comment.Single, "# a comment")
    assert got[1] == (Keyword.Pseudo, ".wait")
    assert (Keyword, "transaction") in got and (Punctuation, "(") in got
    assert (Name.Function, "abort") in got and (Punctuation, ")") in got
    assert got[-1] == (Comment.Single, "# why")


def test_hash_inside_quotes_is_not_a_comment() -> None:
    assert tokens('cmd a="x # y"')[-1] == (String.Double, '"x # y"')


def test_unknown_command_in_error_style_only_with_a_schema() -> None:
    schema = Schema(commands={"stop": Command("stop", "empty")})
    assert tokens("stpo", schema=schema)[0] == (Error, "stpo")
    assert tokens("stop", schema=schema)[0] == (Name.Function, "stop")
    assert tokens("stpo")[0] == (Name.Function, "stpo")
    # actions inside a transaction are not commands
    got = tokens("transaction(\n abort\n)", schema=schema)
    assert (Name.Function, "abort") in got
    assert tokens("abort", schema=schema, transaction=True)[0] == (Name.Function, "abort")


def test_every_character_is_kept() -> None:
    text = 'blockdev-add  driver=qcow2 file={"driver": "file"} # c\n.echo hi\n'
    assert "".join(v for _, v in ShorthandLexer().get_tokens(text)) == text


def test_registered_with_pygments() -> None:
    assert isinstance(get_lexer_by_name("qmpshell"), ShorthandLexer)
    assert isinstance(get_lexer_by_name("qmp"), ShorthandLexer)
    assert isinstance(get_lexer_for_filename("session.qmp"), ShorthandLexer)


def test_pygmentize_uses_it(tmp_path: Path) -> None:
    session = tmp_path / "s.qmp"
    session.write_text("block_resize device=scratch size=1G\n")
    pygmentize = Path(sys.executable).parent / "pygmentize"
    out = subprocess.run([str(pygmentize), "-l", "qmpshell", "-f", "raw", str(session)],
                         capture_output=True, text=True, check=True).stdout
    assert "Token.Name.Function\t'block_resize'" in out
    assert "Token.Literal.Number\t'1G'" in out


def test_hash_inside_a_word_is_text_as_the_parser_reads_it() -> None:
    got = tokens("blockdev-add file.filename=a#b size=1G#x # a comment")
    assert got[1:] == [
        (Name.Attribute, "file.filename"), (Operator, "="), (String, "a#b"),
        (Name.Attribute, "size"), (Operator, "="), (String, "1G#x"),
        (Comment.Single, "# a comment"),
    ]
    assert tokens('cmd a="x"#y')[-1] == (Text, "#y")  # the parser joins it to the value
    assert tokens("stop#now")[0] == (Text, "stop#now")  # one word, not a command
    assert tokens(".echo a#b #c") == [(Keyword.Pseudo, ".echo"), (String.Other, "a#b"),
                                      (Comment.Single, "#c")]
    assert tokens("cmd x=1 #c\n#d")[-2:] == [(Comment.Single, "#c"), (Comment.Single, "#d")]


def test_a_vm_target_then_the_line_as_usual() -> None:
    assert tokens("@vm1 block_resize size=1G") == [
        (Name.Label, "@vm1"), (Name.Function, "block_resize"),
        (Name.Attribute, "size"), (Operator, "="), (Number, "1G")]
    assert tokens("@all .hmp info status")[:2] == [(Name.Label, "@all"),
                                                   (Keyword.Pseudo, ".hmp")]
