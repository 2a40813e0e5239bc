"""`.help` and `.help CMD`: grouped list, arguments with types and whether
required, the spec's example as shorthand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qmpshell.errors import ParseError
from qmpshell.runner.help import command_help, command_list, doc_body
from qmpshell.schema.model import Command, Example, Schema
from qmpshell.schema.table import load_bundled_schema

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(scope="module")
def bundled() -> Schema:
    return load_bundled_schema()


def test_list_is_grouped_with_titles(bundled: Schema) -> None:
    text = command_list(bundled)
    lines = text.splitlines()
    assert lines[0] == "Commands:"
    assert lines.index("Queries:") > lines.index("Commands:")
    resize = next(line for line in lines if line.split()[:1] == ["block_resize"])
    assert "Resize a block image" in resize
    assert any(line.split()[:1] == ["query-status"] for line in lines[lines.index("Queries:"):])
    assert "Shell commands:" in lines and any(line.strip().startswith(".wait") for line in lines)
    assert all(len(line) <= 80 for line in lines)


def test_list_marks_deprecated_and_live_only() -> None:
    s = Schema(commands={
        "old": Command("old", "empty", title="Old thing", features=("deprecated",)),
        "new-thing": Command("new-thing", "empty", group="live"),
    })
    text = command_list(s)
    assert "(deprecated) Old thing" in text
    assert "Offered by the connected server only:\n  new-thing" in text


def test_command_help_block_resize(bundled: Schema) -> None:
    text = command_help(bundled, "block_resize")
    lines = text.splitlines()
    assert lines[0] == "block_resize - Resize a block image while a guest is running."
    args = lines[lines.index("Arguments:") + 1:]
    assert args[0].split()[:3] == ["size", "size", "required"]
    assert args[1].split()[:3] == ["device", "string", "optional"]
    assert args[2].split()[:3] == ["node-name", "string", "optional"]
    assert "Example:" in lines
    assert "  block_resize device=scratch size=1G" in lines  # sizes written as typed
    assert "->" not in text  # the spec's JSON example is shown as shorthand


def test_command_help_with_no_arguments(bundled: Schema) -> None:
    assert "Arguments: none" in command_help(bundled, "query-status")


def test_unknown_command_suggests(bundled: Schema) -> None:
    with pytest.raises(ParseError, match="did you mean block_resize"):
        command_help(bundled, "block_resise")


def test_dot_command_help(bundled: Schema) -> None:
    assert command_help(bundled, ".wait").startswith(".wait: wait for an event")


def test_doc_body_drops_what_help_shows_itself() -> None:
    doc = ("Do a thing.\n\nMore words.\n\nArguments:\n\n- \"a\": x\n\n"
           "Example:\n\n-> { \"execute\": \"t\" }\n\nNotes:\n\nCareful.")
    assert doc_body(doc, "Do a thing.") == "More words.\n\nNotes:\n\nCareful."


def test_examples_in_json_when_not_a_request() -> None:
    s = Schema(commands={"t": Command("t", "empty", examples=(
        Example(1, "->", json={"execute": "t"}),
        Example(2, "<-", json={"return": {}}),
        Example(3, "->", json=None, text='{ "execute": "t", broken', valid=False)))})
    text = command_help(s, "t")
    assert "Examples:\n  t\n  { \"execute\": \"t\", broken" in text


def test_qemu72_union_arguments() -> None:
    from qmpshell.schema.introspect import schema_from_qapi
    s = schema_from_qapi(json.loads((FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text()))
    text = command_help(s, "blockdev-add")
    assert "more arguments depend on driver: blkdebug" in text
    assert any(line.split()[:2] == ["node-name", "string"] for line in text.splitlines())


def test_wait_help_says_how_long_it_waits() -> None:
    text = command_help(Schema(), ".wait")
    assert "--timeout or else 60 s in scripts" in text and "Ctrl-C at the prompt" in text
    assert "save FILE" in command_help(Schema(), ".schema")
