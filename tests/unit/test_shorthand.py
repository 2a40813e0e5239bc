"""The shorthand language: value rules, errors, transactions and rendering,
over a small hand-built schema (tests/shorthand_schema.py)."""

from __future__ import annotations

from typing import Any

import pytest
from helpers.schemas import make_schema

from qmpshell.errors import ParseError
from qmpshell.schema.model import Schema
from qmpshell.shorthand.parser import ShorthandParser, format_request, parse_line
from qmpshell.shorthand.words import strip_comment

SCHEMA = make_schema()


def args(line: str, schema: Schema = SCHEMA, **kw: Any) -> dict[str, Any]:
    request = parse_line(line, schema, **kw)
    assert request is not None
    return dict(request.get("arguments", {}))


def error(line: str, schema: Schema = SCHEMA, **kw: Any) -> tuple[str, int]:
    with pytest.raises(ParseError) as info:
        parse_line(line, schema, **kw)
    return info.value.message, info.value.column


# -- the spec's own example ------------------------------------------------------
def test_block_resize_with_a_size_suffix_is_the_specs_request() -> None:
    assert parse_line("block_resize device=scratch size=1G", SCHEMA) == {
        "execute": "block_resize",
        "arguments": {"device": "scratch", "size": 1073741824},
    }


def test_a_command_without_arguments_has_no_arguments_member() -> None:
    assert parse_line("query-status", SCHEMA) == {"execute": "query-status"}


# -- strings ---------------------------------------------------------------------
@pytest.mark.parametrize("text", ["12345", "+60", "1", "true", "null", "0x10", "1G", "-", "a=b"])
def test_strings_stay_strings_whatever_they_look_like(text: str) -> None:
    assert args(f"set_password protocol=vnc password={text}")["password"] == text


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ('"info registers"', "info registers"),
        ("'info registers'", "info registers"),
        ('"x = 1 # not a comment"', "x = 1 # not a comment"),
        ("'say \"hi\"'", 'say "hi"'),
        ('"it\'s"', "it's"),
        ('"a\\"b"', 'a"b'),
        ('"tab\\there"', "tab\there"),
        ('"C:\\dir\\sub"', "C:\\dir\\sub"),
        ("C:\\dir\\file", "C:\\dir\\file"),
        ("'\\u00e9\\\\'", "\u00e9\\"),
        ('pre"fix suf"fix', "prefix suffix"),
        ('""', ""),
        ("", ""),
    ],
)
def test_quoted_values(typed: str, value: str) -> None:
    assert args(f"human-monitor-command command-line={typed}")["command-line"] == value


# -- integers and sizes ----------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4096", 4096), ("0x1000", 4096), ("0X1f", 31), ("4k", 4096), ("4K", 4096),
        ("512M", 512 << 20), ("1G", 1 << 30), ("1.5G", 3 << 29), ("2T", 2 << 40),
        ("1P", 1 << 50), ("1E", 1 << 60), ("1GiB", 1 << 30), ("1GB", 1 << 30), ("0", 0),
        ("18446744073709551615", 2**64 - 1),
    ],
)
def test_sizes(text: str, value: int) -> None:
    assert args(f"block_resize device=d size={text}")["size"] == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("42", 42), ("-1", -1), ("-0x10", -16), ("+7", 7), ("2k", 2048),
     ("-9223372036854775808", -(2**63))],
)
def test_integers_take_signs_hex_and_size_suffixes(text: str, value: int) -> None:
    assert args(f"cpu index={text}")["index"] == value


@pytest.mark.parametrize("text", ["big", "1.3k", "1.5", "1e3", "0x", "1_000", "٣", "4 k", "k"])
def test_not_an_integer(text: str) -> None:
    message, _ = error(f"cpu index={text!r}" if " " in text else f"cpu index={text}")
    assert message.startswith("cpu: index: expected an integer such as 42")


@pytest.mark.parametrize("text", ["18446744073709551616", "16E", "-9223372036854775809"])
def test_integers_beyond_64_bits_are_out_of_range(text: str) -> None:
    message, column = error(f"cpu index={text}")
    assert message.endswith("is out of range (64 bits)")
    assert column == len("cpu index=") + 1


def test_a_hundred_thousand_digits_are_out_of_range_not_a_hang() -> None:
    message, column = error("cpu index=1" + "0" * 100_000)
    assert message == "cpu: index: '1" + "0" * 35 + "... is out of range (64 bits)"
    assert column == 11
    assert error("cpu index=-0x" + "f" * 100)[0].endswith("is out of range (64 bits)")
    message, _ = error("qom-set path=/ property=p value=[1" + "0" * 100_000 + "]")
    assert message == "qom-set: value: number out of range"


def test_a_negative_size_is_out_of_range() -> None:
    assert error("block_resize device=d size=-1") == (
        "block_resize: size: -1 is out of range (0)", 28)


# -- numbers and booleans --------------------------------------------------------
@pytest.mark.parametrize(("text", "value"), [("0.1", 0.1), ("2", 2), ("1e3", 1000.0),
                                             ("-.5", -0.5)])
def test_numbers(text: str, value: float) -> None:
    got = args(f"sleep seconds={text}")["seconds"]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("text", ["fast", "1e999", "0.1s"])
def test_not_a_number(text: str) -> None:
    assert error(f"sleep seconds={text}")[0] == (
        f"sleep: seconds: expected a number such as 0.5 or 2, got '{text}'")


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("on", True), ("yes", True), ("1", True), ("True", True),
    ("false", False), ("off", False), ("no", False), ("0", False), ("OFF", False),
])
def test_booleans(text: str, value: bool) -> None:
    assert args(f"enable state={text}")["state"] is value


def test_not_a_boolean() -> None:
    assert error("enable state=maybe") == (
        "enable: state: expected a boolean (true/false, on/off, yes/no, 1/0), got 'maybe'", 14)


@pytest.mark.parametrize("line", ["eject -f device=cd0", "eject force device=cd0",
                                  "eject --force device=cd0", "eject device=cd0 force=on"])
def test_a_flag_may_be_given_bare(line: str) -> None:
    assert args(line) == {"force": True, "device": "cd0"}


def test_single_letter_flags_name_the_flag_by_its_initial() -> None:
    assert args("migrate -d -b uri=tcp:0:4444") == {"detach": True, "blk": True,
                                                    "uri": "tcp:0:4444"}


def test_a_bare_word_that_is_not_a_flag_is_refused() -> None:
    assert error("eject cd0") == ("eject: expected key=value, got 'cd0'", 7)
    assert error("eject device") == ("eject: device: expected device=VALUE (string)", 7)


# -- any: JSON or Python-style literals, else a string ---------------------------
@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("12", 12), ("-3.5", -3.5), ("true", True), ("null", None), ("hello", "hello"),
        ('"12"', "12"), ("'true'", "true"), ("True", "True"),
        ('{"filename": "/dev/hwrng"}', {"filename": "/dev/hwrng"}),
        ("{'a': True, 'b': None, 'c': [1, 'x',]}", {"a": True, "b": None, "c": [1, "x"]}),
        ("[ 1 , 2 ]", [1, 2]), ("{}", {}), ("[]", []),
        ("__import__('os')", "__import__(os)"),
    ],
)
def test_any_values(typed: str, value: object) -> None:
    assert args(f"qom-set path=/m property=p value={typed}")["value"] == value


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("[__import__('os')]", "unexpected '__import__'"),
        ("{a: 1}", "expected a quoted key or '}'"),
        ("[1 2]", "expected ',' or ']'"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ("[" * 100 + "]" * 100, "nested more than 64 levels deep"),
    ],
)
def test_bad_json_under_any_is_an_error_not_a_string(typed: str, message: str) -> None:
    assert error(f"qom-set path=/m property=p value={typed}")[0] == f"qom-set: value: {message}"


def test_dotted_keys_under_any_build_an_object() -> None:
    assert args("object-add qom-type=rng-random id=r props.filename=/dev/hwrng props.n=4") == {
        "qom-type": "rng-random", "id": "r", "props": {"filename": "/dev/hwrng", "n": 4}}


def test_object_add_puts_unlisted_keys_into_props() -> None:
    assert args("object-add qom-type=rng-random id=r filename=/dev/urandom") == {
        "qom-type": "rng-random", "id": "r", "props": {"filename": "/dev/urandom"}}


def test_open_commands_pass_unlisted_keys_through() -> None:
    line = "device_add driver=e1000 id=n0 addr=0x4 bus=pci.0 x-num=8 mac=52:54:00:12:34:56"
    assert args(line) == {
        "driver": "e1000", "id": "n0", "addr": "0x4", "bus": "pci.0", "x-num": 8,
        "mac": "52:54:00:12:34:56"}


# -- nesting, unions, alternates, arrays, enums -----------------------------------
def test_dotted_keys_build_nested_objects_typed_by_the_union_branch() -> None:
    assert args("blockdev-add driver=qcow2 node-name=disk1 file.driver=file "
                "file.filename=/x file.size-hint=1M cache-size=4k") == {
        "driver": "qcow2", "node-name": "disk1", "cache-size": 4096,
        "file": {"driver": "file", "filename": "/x", "size-hint": 1 << 20}}


def test_an_alternate_takes_a_string_or_an_object() -> None:
    assert args("blockdev-add driver=qcow2 file=disk0")["file"] == "disk0"
    assert args('blockdev-add driver=qcow2 file={"driver": "file", "filename": "/x"}')[
        "file"] == {"driver": "file", "filename": "/x"}


def test_members_of_another_branch_are_unknown() -> None:
    assert error("blockdev-add driver=file filename=/x cache-size=1") == (
        "blockdev-add: unknown argument 'cache-size'", 38)


def test_a_union_without_its_discriminator_says_so() -> None:
    assert error("blockdev-add filename=/x") == (
        "blockdev-add: missing required argument 'driver' (one of: file, qcow2, null-co)", 1)


def test_errors_inside_nested_objects_name_the_path() -> None:
    assert error("blockdev-add driver=qcow2 file.driver=file") == (
        "blockdev-add: missing required argument 'file.filename' (file name)", 27)
    assert error("blockdev-add driver=qcow2 file.driver=file file.filenam=/x") == (
        "blockdev-add: unknown argument 'file.filenam' (did you mean 'file.filename'?)", 44)
    assert error("blockdev-add driver=qcow2 file.driver=file file.filename=/x "
                 "file.size-hint=big")[0] == (
        "blockdev-add: file.size-hint: expected a size such as 1G or 4096, got 'big'")


def test_json_objects_are_checked_like_dotted_keys() -> None:
    assert error('configure nodes=[{"driver": "file"}]') == (
        "configure: missing required argument 'nodes.0.filename' (file name)", 17)
    assert error('configure nodes=[{"driver": "file", "filename": 3}]')[0] == (
        "configure: nodes.0.filename: expected a file name, got 3")


@pytest.mark.parametrize(
    ("typed", "value"),
    [("null", None), ('"null"', "null"), ("secret0", "secret0"), ("''", "")],
)
def test_string_or_null(typed: str, value: object) -> None:
    assert args(f"configure creds={typed}")["creds"] == value


@pytest.mark.parametrize(("typed", "value"), [("12", 12), ("4k", 4096), ("abc", "abc"),
                                              ('"12"', "12")])
def test_int_or_string(typed: str, value: object) -> None:
    assert args(f"configure limit={typed}")["limit"] == value


def test_arrays_from_json_or_numbered_dotted_keys() -> None:
    assert args('configure names=["a", "b c"]') == {"names": ["a", "b c"]}
    assert args("configure names.1=b names.0=a") == {"names": ["a", "b"]}
    assert args("configure numbers=[1,2]") == {"numbers": [1, 2]}


def test_array_errors() -> None:
    assert error("configure names=a")[0] == (
        "configure: names: expected a list such as [...] (list of string), got 'a'")
    assert error('configure numbers=[1, "2"]')[0] == (
        'configure: numbers.1: expected an integer such as 42, -1, 0x1000 or 4k, got "2"')
    assert error("configure names.0=a names.2=b")[0] == (
        "configure: names: list items must be numbered 0, 1, 2...")


def test_enum_values_are_checked_with_a_suggestion() -> None:
    assert args("snapshot device=d snapshot-file=/x mode=existing")["mode"] == "existing"
    assert error("snapshot device=d snapshot-file=/x mode=existin") == (
        "snapshot: mode: expected one of: existing, absolute-paths; got 'existin' "
        "(did you mean 'existing'?)", 41)


# -- the error messages ------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "message", "column"),
    [
        ("block_resiz device=d size=1G",
         "unknown command 'block_resiz' (did you mean 'block_resize'?)", 1),
        ("block_resize device=d sise=1G",
         "block_resize: unknown argument 'sise' (did you mean 'size'?)", 23),
        ("block_resize device=d", "block_resize: missing required argument 'size' (size)", 1),
        ("block_resize device=d size=big",
         "block_resize: size: expected a size such as 1G or 4096, got 'big'", 28),
        ("block_resize device=d size=1G size=2G", "block_resize: duplicate argument 'size'", 31),
        ('block_resize device="d size=1G', 'unbalanced " (no closing quote)', 21),
        ("qom-set path=/ property=p value=[1, {2}", "unbalanced '[' (no closing ']')", 33),
        ("qom-set path=/ property=p value=1]", "unbalanced ']'", 34),
        ("blockdev-add driver=qcow2 file=x file.driver=file",
         "blockdev-add: duplicate argument 'file'", 34),
        ("frobnicate", "unknown command 'frobnicate'", 1),
        ("device=x", "expected a command name, got 'device=x'", 1),
        (")", "')' outside a transaction( ... )", 1),
        ("block_resize device=d size=1G .x=1", "block_resize: bad argument name '.x'", 31),
    ],
)
def test_error_messages(line: str, message: str, column: int) -> None:
    assert error(line) == (message, column)


def test_an_error_says_its_column_and_keeps_the_line() -> None:
    with pytest.raises(ParseError) as info:
        parse_line("block_resize device=d size=big", SCHEMA)
    assert str(info.value) == (
        "column 28: block_resize: size: expected a size such as 1G or 4096, got 'big'")
    assert info.value.line == "block_resize device=d size=big"


# -- comments, blank lines, raw JSON -------------------------------------------
@pytest.mark.parametrize("line", ["", "   ", "# a comment", "  # indented comment"])
def test_blank_and_comment_lines_send_nothing(line: str) -> None:
    assert parse_line(line, SCHEMA) is None


def test_comments_end_a_line_outside_quotes_and_json() -> None:
    assert args("human-monitor-command command-line=info # registers") == {
        "command-line": "info"}
    assert args("human-monitor-command command-line='info # registers'") == {
        "command-line": "info # registers"}
    assert args('qom-set path=/ property=p value={"a": "#1"} # note')["value"] == {"a": "#1"}


def test_a_hash_inside_a_word_is_text_as_in_a_shell() -> None:
    assert args("human-monitor-command command-line=info#1") == {"command-line": "info#1"}
    assert args("human-monitor-command command-line=a#b #c") == {"command-line": "a#b"}
    line = format_request({"execute": "human-monitor-command",
                           "arguments": {"command-line": "a#b"}}, SCHEMA)
    assert args(line) == {"command-line": "a#b"}


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("query-status # hi", "query-status "),
        ("query-status#hi", "query-status#hi"),
        ("x='a # b' # c", "x='a # b' "),
        ('{"execute": "x#y"} # c', '{"execute": "x#y"} '),
        ("x='unbalanced # c", "x='unbalanced # c"),
        ("no comment", "no comment"),
    ],
)
def test_strip_comment(line: str, kept: str) -> None:
    assert strip_comment(line) == kept


def test_raw_json_passes_through_untouched() -> None:
    line = '{"execute": "not-in-schema", "arguments": {"size": "1G"}, "id": 7} # note'
    assert parse_line(line, SCHEMA) == {
        "execute": "not-in-schema", "arguments": {"size": "1G"}, "id": 7}


@pytest.mark.parametrize(
    ("line", "message", "column"),
    [
        ('{"execute": }', "invalid JSON: Expecting value", 13),
        ('{"arguments": {}}', 'a JSON request must be an object with "execute"', 1),
        ('{"execute": "x"} extra', "unexpected text after the JSON request", 18),
    ],
)
def test_bad_raw_json(line: str, message: str, column: int) -> None:
    assert error(line) == (message, column)


# -- allow_unknown ---------------------------------------------------------------
def test_unknown_commands_are_sent_with_json_or_string_values_when_allowed() -> None:
    assert parse_line("x-new-cmd n=12 s=abc q='12' o.k=true l=[1]", SCHEMA,
                      allow_unknown=True) == {
        "execute": "x-new-cmd",
        "arguments": {"n": 12, "s": "abc", "q": "12", "o": {"k": True}, "l": [1]}}


def test_unknown_argument_names_of_known_commands_are_sent_when_allowed() -> None:
    assert args("block_resize device=d size=1G x-new=on", allow_unknown=True) == {
        "device": "d", "size": 1 << 30, "x-new": "on"}
    assert error("block_resize device=d size=big", allow_unknown=True)[1] == 28


# -- transactions --------------------------------------------------------------
SNAP_A = {"type": "snapshot", "data": {"device": "a", "snapshot-file": "/a", "mode": "existing"}}
SNAP_B = {"type": "snapshot", "data": {"device": "b", "snapshot-file": "/b"}}


def transaction(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"execute": "transaction", "arguments": {"actions": list(actions)}}


@pytest.mark.parametrize(
    "lines",
    [
        ["transaction( snapshot device=a snapshot-file=/a mode=existing ; "
         "snapshot device=b snapshot-file=/b )"],
        ["transaction(", "snapshot device=a snapshot-file=/a mode=existing",
         "snapshot device=b snapshot-file=/b", ")"],
        ["transaction( snapshot device=a snapshot-file=/a mode=existing",
         "  # a comment", "", "snapshot device=b snapshot-file=/b )"],
        ["transaction (", "snapshot device=a snapshot-file=/a mode=existing ;",
         "snapshot device=b snapshot-file=/b ; )"],
    ],
)
def test_transactions_one_line_and_multi_line(lines: list[str]) -> None:
    parser = ShorthandParser(SCHEMA)
    results = [parser.feed(line) for line in lines]
    assert results[:-1] == [None] * (len(lines) - 1)
    assert results[-1] == transaction(SNAP_A, SNAP_B)
    assert not parser.in_transaction


def test_parse_line_takes_a_one_line_transaction() -> None:
    assert parse_line("transaction( snapshot device=b snapshot-file=/b )", SCHEMA) == (
        transaction(SNAP_B))
    assert parse_line("transaction( )", SCHEMA) == transaction()


def test_actions_are_typed_by_the_command_of_the_same_name() -> None:
    assert error("transaction( snapshot device=a snapshot-file=/a mode=new )") == (
        "snapshot: mode: expected one of: existing, absolute-paths; got 'new'", 54)
    assert error("transaction( snapshto device=a )") == (
        "unknown transaction action 'snapshto' (did you mean 'snapshot'?)", 14)


def test_a_failed_action_line_stops_the_whole_transaction() -> None:
    parser = ShorthandParser(SCHEMA)
    assert parser.feed("transaction(") is None
    with pytest.raises(ParseError):
        parser.feed("snapshot device=a")
    assert parser.in_transaction
    assert parser.feed("snapshot device=b snapshot-file=/b") is None
    with pytest.raises(ParseError) as info:
        parser.feed(")")
    assert info.value.message == "transaction not sent: 1 action line(s) had errors"
    assert not parser.in_transaction
    assert parser.feed("query-status") == {"execute": "query-status"}


def test_a_nested_transaction_line_is_an_error_inside_the_open_transaction() -> None:
    parser = ShorthandParser(SCHEMA)
    parser.feed("transaction(")
    with pytest.raises(ParseError) as info:
        parser.feed("transaction( snapshot device=b snapshot-file=/b")
    assert (info.value.message, info.value.column) == ("transaction( cannot be nested", 1)
    assert parser.in_transaction
    with pytest.raises(ParseError):
        parser.feed(")")
    assert not parser.in_transaction


def test_an_error_on_the_closing_line_ends_the_transaction() -> None:
    parser = ShorthandParser(SCHEMA)
    with pytest.raises(ParseError):
        parser.feed("transaction( snapshot device=a )")
    assert not parser.in_transaction


def test_reset_abandons_a_pending_transaction() -> None:
    parser = ShorthandParser(SCHEMA)
    parser.feed("transaction( snapshot device=b snapshot-file=/b")
    assert parser.in_transaction
    parser.reset()
    assert not parser.in_transaction
    assert parser.feed("query-status") == {"execute": "query-status"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("transaction( snapshot device=b snapshot-file=/b",
         "transaction( is not closed: expected ')'"),
        ("transaction( ) query-status", "unexpected text after ')'"),
        ("transaction( transaction( )", "transaction( cannot be nested"),
        ('transaction( {"type": "x"} )',
         "a JSON request inside transaction( ... ); expected an action"),
    ],
)
def test_transaction_grammar_errors(line: str, message: str) -> None:
    assert error(line)[0] == message


def test_a_transaction_can_still_be_sent_as_json_or_with_actions() -> None:
    line = 'transaction actions=[{"type": "snapshot", "data": {}}]'
    assert parse_line(line, SCHEMA) == transaction({"type": "snapshot", "data": {}})


# -- requests back to lines -------------------------------------------------------
@pytest.mark.parametrize(
    ("request_", "line"),
    [
        ({"execute": "block_resize", "arguments": {"device": "scratch", "size": 1 << 30}},
         "block_resize device=scratch size=1G"),
        ({"execute": "block_resize", "arguments": {"device": "x y", "size": 1000}},
         'block_resize device="x y" size=1000'),
        ({"execute": "set_password", "arguments": {"protocol": "vnc", "password": "12345"}},
         "set_password protocol=vnc password=12345"),
        ({"execute": "qom-set", "arguments": {"path": "/", "property": "p", "value": "12"}},
         'qom-set path=/ property=p value="12"'),
        ({"execute": "eject", "arguments": {"force": True, "device": "cd0"}},
         "eject force device=cd0"),
        ({"execute": "blockdev-add", "arguments": {
            "driver": "qcow2", "file": {"driver": "file", "filename": "/x"}}},
         "blockdev-add driver=qcow2 file.driver=file file.filename=/x"),
        ({"execute": "configure", "arguments": {"creds": "null", "names": ["a"]}},
         'configure creds="null" names=["a"]'),
        (transaction(SNAP_A, SNAP_B),
         "transaction( snapshot device=a snapshot-file=/a mode=existing ; "
         "snapshot device=b snapshot-file=/b )"),
        ({"execute": "query-status", "arguments": {}}, "query-status"),
        ({"execute": "not-known"}, '{"execute":"not-known"}'),
        ({"execute": "query-status", "id": 1}, '{"execute":"query-status","id":1}'),
    ],
)
def test_format_request(request_: dict[str, Any], line: str) -> None:
    assert format_request(request_, SCHEMA) == line


def test_format_request_without_a_schema_quotes_what_would_read_as_json() -> None:
    request = {"execute": "x", "arguments": {"a": "12", "b": 12, "c": {"d": "true", "e": None}}}
    line = format_request(request)
    assert line == 'x a="12" b=12 c.d="true" c.e=null'
    assert parse_line(line, Schema(), allow_unknown=True) == request


@pytest.mark.parametrize(
    "value",
    ["", " ", "a b", 'say "hi"', "it's", "a=b", "#", "x#y", "[", "}", "back\\slash",
     "line\nbreak", "\u2028", "\x00", "caf\u00e9", "\U0001f600", "\U000e0001", "-f", ")", ";"],
)
def test_any_string_renders_and_parses_back(value: str) -> None:
    for request in (
        {"execute": "set_password", "arguments": {"protocol": "p", "password": value}},
        {"execute": "qom-set", "arguments": {"path": "/", "property": "q", "value": value}},
        {"execute": "configure", "arguments": {"creds": value, "limit": value}},
    ):
        line = format_request(request, SCHEMA)
        assert "\n" not in line and line.isprintable()
        assert parse_line(line, SCHEMA) == request
