"""A parser remembers the request of a line it parsed before (a replayed
session repeats its lines); what it remembers must never go stale: a new
schema, or a change of what unknown names may do, forgets it, a line of a
multi-line transaction is never taken from it, and the caller's copy is its
own."""

from __future__ import annotations

import json

import pytest
from helpers.schemas import make_schema

from qmpshell import jsonlimit
from qmpshell.errors import ParseError
from qmpshell.schema.model import Command, Member, Schema, TypeInfo
from qmpshell.shorthand.parser import CACHED_LINES, ShorthandParser


def cpu_index_as(kind: str) -> Schema:
    """A schema where ``cpu index=...`` is of type ``kind``."""
    schema = Schema(source="test")
    info = TypeInfo(name="cpu.arguments", kind="object", members=(Member("index", kind),))
    schema.types[info.name] = info
    schema.commands["cpu"] = Command(name="cpu", args_type=info.name)
    return schema


def test_the_same_line_gives_the_same_request_each_time() -> None:
    parser = ShorthandParser(make_schema())
    line = "blockdev-add driver=file node-name=disk filename=/tmp/a.img"
    first = parser.feed(line)
    assert parser.feed(line) == first == {
        "execute": "blockdev-add",
        "arguments": {"driver": "file", "node-name": "disk", "filename": "/tmp/a.img"}}


def test_changing_a_request_does_not_change_the_next_one() -> None:
    parser = ShorthandParser(make_schema())
    line = 'configure names=["a","b"] creds=x'
    first = parser.feed(line)
    assert first is not None
    first["arguments"]["names"].append("c")
    first["arguments"]["creds"] = "changed"
    first["id"] = 7
    assert parser.feed(line) == {"execute": "configure",
                                 "arguments": {"names": ["a", "b"], "creds": "x"}}


def test_a_new_schema_forgets_the_lines_parsed_by_the_old_one() -> None:
    parser = ShorthandParser(cpu_index_as("int"))
    assert parser.feed("cpu index=1") == {"execute": "cpu", "arguments": {"index": 1}}
    parser.use_schema(cpu_index_as("str"), allow_unknown=False)
    assert parser.feed("cpu index=1") == {"execute": "cpu", "arguments": {"index": "1"}}
    parser.use_schema(Schema(source="empty"), allow_unknown=False)
    with pytest.raises(ParseError, match="unknown command 'cpu'"):
        parser.feed("cpu index=1")


def test_unknown_names_refused_again_once_they_are_no_longer_allowed() -> None:
    schema = make_schema()
    parser = ShorthandParser(schema, allow_unknown=True)
    assert parser.feed("x-frobnicate level=3") == {"execute": "x-frobnicate",
                                                   "arguments": {"level": 3}}
    parser.use_schema(schema, allow_unknown=False)
    with pytest.raises(ParseError, match="unknown command 'x-frobnicate'"):
        parser.feed("x-frobnicate level=3")


def test_a_line_inside_a_transaction_is_an_action_even_when_seen_alone_before() -> None:
    parser = ShorthandParser(make_schema())
    assert parser.feed("eject device=cd0") == {"execute": "eject",
                                              "arguments": {"device": "cd0"}}
    assert parser.feed("transaction(") is None
    assert parser.feed("eject device=cd0") is None
    assert parser.in_transaction
    assert parser.feed(")") == {"execute": "transaction", "arguments": {
        "actions": [{"type": "eject", "data": {"device": "cd0"}}]}}
    assert not parser.in_transaction


def test_the_line_that_closes_a_transaction_is_not_remembered() -> None:
    parser = ShorthandParser(make_schema())
    for line in ("transaction(", "eject device=cd0", ")"):
        parser.feed(line)
    with pytest.raises(ParseError, match="outside a transaction"):
        parser.feed(")")
    parser.feed("transaction( eject device=cd0")
    with pytest.raises(ParseError, match="cannot be nested"):
        parser.feed("transaction( eject device=cd0")


def test_a_line_that_failed_fails_again() -> None:
    parser = ShorthandParser(make_schema())
    for _ in range(2):
        with pytest.raises(ParseError, match="unknown argument"):
            parser.feed("cpu idx=1")


def test_many_different_lines_still_parse_past_the_remembered_number() -> None:
    parser = ShorthandParser(make_schema())
    for i in range(CACHED_LINES + 10):
        assert parser.feed(f"cpu index={i}") == {"execute": "cpu", "arguments": {"index": i}}
    assert parser.feed("cpu index=3") == {"execute": "cpu", "arguments": {"index": 3}}


@pytest.mark.parametrize("value", [
    {"return": {"status": "running", "singlestep": False, "running": True}},
    {"error": {"class": "GenericError", "desc": "caf\u00e9 \u2603 \U0001f600 \x00\n\t\""}},
    [1, -2, 2**70, 1.5, 1e300, -0.0, float("nan"), float("inf"), None, True, ""],
    "text", 3, None, {},
])
def test_compact_json_is_json_dumps_text(value: object) -> None:
    assert jsonlimit.dumps(value) == json.dumps(value)


def test_compact_json_refuses_what_json_dumps_refuses() -> None:
    with pytest.raises(TypeError):
        jsonlimit.dumps({"a": {1, 2}})
    with pytest.raises(TypeError):
        json.dumps({"a": {1, 2}})
    assert jsonlimit.dumps({"a": 1}) == '{"a": 1}'  # a failure leaves nothing behind
