"""Properties of the shorthand over generated input: any text gives a request
or a ParseError (nothing else, no hang), and every request generated from a
schema renders to a line that parses back to exactly that request."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from conftest import FIXTURES
from helpers.schemas import make_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmpshell.errors import ParseError
from qmpshell.schema.introspect import schema_from_qapi
from qmpshell.schema.model import Schema, TypeInfo
from qmpshell.schema.table import load_bundled_schema
from qmpshell.shorthand.parser import ShorthandParser, format_request, parse_line
from qmpshell.shorthand.values import INT_MAX, INT_MIN

SCHEMA = make_schema()
BUNDLED = load_bundled_schema()
LIVE = schema_from_qapi(json.loads((FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text()))
LIVE_COMMANDS = ["blockdev-add", "object-add", "chardev-add", "migrate-set-parameters",
                 "transaction", "netdev_add", "device_add", "block_resize", "eject",
                 "blockdev-snapshot-sync", "drive-mirror", "set_password", "qom-set"]
MAX_DEPTH = 3

JSON_SCALARS = (st.none() | st.booleans() | st.integers(INT_MIN, INT_MAX)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)
BUILTINS: dict[str, st.SearchStrategy[Any]] = {
    "str": st.text(max_size=16), "file": st.text(max_size=16),
    "int": st.integers(INT_MIN, INT_MAX), "size": st.integers(0, INT_MAX),
    "number": st.integers(-(10**6), 10**6) | st.floats(allow_nan=False, allow_infinity=False),
    "bool": st.booleans(), "flag": st.booleans(), "null": st.none(), "any": JSON_VALUES,
}


def values(schema: Schema, type_name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    """Valid JSON values of a schema type (recursive types cut off at MAX_DEPTH)."""
    info = schema.resolve(type_name)
    if info.kind == "builtin":
        return BUILTINS[info.builtin]
    if info.kind == "enum":
        return st.sampled_from(info.values)
    if info.kind == "array":
        if depth >= MAX_DEPTH:
            return st.just([])
        return st.lists(values(schema, info.element, depth + 1), max_size=2)
    if info.kind == "alternate":
        alternatives = [schema.resolve(a) for a in info.alternatives]
        if depth >= MAX_DEPTH and any(a.kind in ("builtin", "enum") for a in alternatives):
            alternatives = [a for a in alternatives if a.kind in ("builtin", "enum")]
        return st.one_of([values(schema, a.name, depth) for a in alternatives])
    return objects(schema, info, depth)


def objects(schema: Schema, info: TypeInfo, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """Valid objects: required members, some optional ones, a union branch."""
    if not info.tag or not info.variants:
        return _members(schema, info, depth)
    base = _members(schema, info, depth)

    def with_branch(choice: tuple[str, str]) -> st.SearchStrategy[dict[str, Any]]:
        tag_value, branch = choice
        branch_info = schema.resolve(branch)
        return st.tuples(base, objects(schema, branch_info, depth)).map(
            lambda pair: {**pair[0], **pair[1], info.tag: tag_value})

    return st.sampled_from(info.variants).flatmap(with_branch)


def _members(schema: Schema, info: TypeInfo, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    required = {m.name: values(schema, m.type, depth + 1) for m in info.members
                if not m.optional and m.name != info.tag}
    optional = {} if depth >= MAX_DEPTH else {
        m.name: values(schema, m.type, depth + 1) for m in info.members if m.optional}
    return st.fixed_dictionaries(required, optional=optional)


def requests(schema: Schema, names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    def request(name: str) -> st.SearchStrategy[dict[str, Any]]:
        args = values(schema, schema.commands[name].args_type)
        return args.map(lambda a: {"execute": name, "arguments": a} if a else {"execute": name})

    return st.sampled_from(names).flatmap(request)


def same(a: object, b: object) -> bool:
    """Equal as JSON, types included (1 is not 1.0, True is not 1)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def assert_round_trip(request: dict[str, Any], schema: Schema | None,
                      parse_schema: Schema, **kw: Any) -> None:
    line = format_request(request, schema)
    assert "\n" not in line
    back = parse_line(line, parse_schema, **kw)
    assert same(back, request), line


# -- any text ----------------------------------------------------------------------
def _parse_anything(text: str, schema: Schema) -> None:
    for allow_unknown in (False, True):
        try:
            result = parse_line(text, schema, allow_unknown=allow_unknown)
        except ParseError as err:
            assert err.message and "\n" not in err.message
            continue
        assert result is None or isinstance(result.get("execute"), str)


@given(st.text())
def test_any_text_gives_a_request_or_a_parse_error(text: str) -> None:
    _parse_anything(text, SCHEMA)


SHORTHAND_ALPHABET = st.sampled_from(
    list(" =.\"'[]{}#()-;,:\\") + ["block_resize", "eject", "-f", "size", "1G", "0x",
                                   "transaction(", ")", " ; ", "value", "qom-set",
                                   "blockdev-add", "driver", "file", "true", "null", "e9"])


@given(st.lists(SHORTHAND_ALPHABET, max_size=30).map("".join))
def test_shorthand_like_text_gives_a_request_or_a_parse_error(text: str) -> None:
    _parse_anything(text, SCHEMA)
    _parse_anything(text, LIVE)


@given(st.lists(st.text(max_size=30), max_size=6))
def test_a_fed_parser_raises_only_parse_errors_and_ends_at_the_close(lines: list[str]) -> None:
    parser = ShorthandParser(SCHEMA)
    for line in ["transaction(", *lines, ")"]:
        with contextlib.suppress(ParseError):
            parser.feed(line)
    assert not parser.in_transaction


@pytest.mark.parametrize("text", [
    "[" * 100_000, "{" * 50_000 + "}" * 50_000, "qom-set value=" + "[" * 100_000 + "]" * 100_000,
    '{"execute": "x", "arguments": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "x " * 50_000, "block_resize size=" + "9" * 100_000, "'" * 100_001,
])
def test_huge_and_deep_input_is_a_parse_error(text: str) -> None:
    _parse_anything(text, SCHEMA)


# -- round trips -----------------------------------------------------------------
SETTINGS = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow],
                    deadline=None)


@SETTINGS
@given(requests(SCHEMA, sorted(SCHEMA.commands)))
def test_requests_render_and_parse_back(request: dict[str, Any]) -> None:
    assert_round_trip(request, SCHEMA, SCHEMA)


@SETTINGS
@given(requests(BUNDLED, sorted(BUNDLED.commands)))
def test_bundled_table_requests_render_and_parse_back(request: dict[str, Any]) -> None:
    assert_round_trip(request, BUNDLED, BUNDLED)


@SETTINGS
@given(requests(LIVE, LIVE_COMMANDS))
def test_qemu_7_2_requests_render_and_parse_back(request: dict[str, Any]) -> None:
    assert_round_trip(request, LIVE, LIVE)


NAMES = st.from_regex(r"[a-z_][a-z0-9_-]{0,10}", fullmatch=True)


@SETTINGS
@given(NAMES, st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4))
def test_any_request_renders_without_a_schema_and_parses_back_when_unknown_is_allowed(
    name: str, arguments: dict[str, Any]
) -> None:
    request = {"execute": name, "arguments": arguments} if arguments else {"execute": name}
    assert_round_trip(request, None, Schema(), allow_unknown=True)
