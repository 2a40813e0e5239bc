"""No depth of JSON from files, lines or the cache can crash a later step:
decoding refuses it with one line, and every walker is iterative or guarded."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from qmpshell.errors import ParseError, SchemaError
from qmpshell.jsonlimit import MAX_DEPTH, TooDeep, loads, too_deep
from qmpshell.runner.render import Renderer
from qmpshell.secrets import MASK, mask_line, mask_value
from qmpshell.wire.logfile import SENT, MessageLog


def nested(depth: int, leaf: object = 1) -> object:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def deep_text(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def test_depth_is_counted_outside_strings_only() -> None:
    assert not too_deep(deep_text(MAX_DEPTH))
    assert too_deep(deep_text(MAX_DEPTH + 1))
    assert not too_deep(json.dumps(["[" * 1000, "{" * 1000]))
    assert not too_deep(json.dumps(['\\"[' * 1000]))
    assert too_deep('{"a": ' * 300 + "1" + "}" * 300)


def test_loads_refuses_past_the_limit_with_a_value_error() -> None:
    assert loads(deep_text(MAX_DEPTH)) == nested(MAX_DEPTH)
    for depth in (MAX_DEPTH + 1, 100_000):
        with pytest.raises(TooDeep, match=f"deeper than {MAX_DEPTH} levels"):
            loads(deep_text(depth))
    assert issubclass(TooDeep, ValueError)


def test_a_deep_raw_json_line_is_a_parse_error() -> None:
    from qmpshell.schema.model import Schema
    from qmpshell.shorthand.parser import parse_line

    line = '{"execute": "x", "arguments": {"a": ' + deep_text(600) + "}}"
    with pytest.raises(ParseError, match="nested deeper than 256 levels"):
        parse_line(line, Schema(), allow_unknown=True)


def test_a_deep_cache_entry_is_a_cache_miss(tmp_path: Path) -> None:
    from qmpshell.schema.cache import entry_path, load

    path = Path(entry_path(tmp_path, "k"))
    path.write_text('{"format": 5, "key": "k", "schema": ' + deep_text(100_000) + "}\n")
    assert load(tmp_path, "k") is None
    path.write_text('{"format": ' + "[" * 1000 + "\n")
    assert load(tmp_path, "k") is None


def test_a_deep_schema_file_is_one_line(tmp_path: Path) -> None:
    from qmpshell.schema.files import load_schema_file

    path = tmp_path / "schema.json"
    path.write_text(deep_text(100_000))
    with pytest.raises(SchemaError) as info:
        load_schema_file(path)
    assert str(info.value) == f"{path}: JSON nested deeper than 256 levels"


@pytest.mark.parametrize("text", ["a = " + "[" * 5000 + "]" * 5000,
                                  "a = " + "{b = " * 5000 + "1" + "}" * 5000])
def test_a_config_file_nested_too_deeply_is_one_warning(text: str, tmp_path: Path) -> None:
    from qmpshell.cli.config import parse_config

    values, warnings = parse_config(text, tmp_path / "config.toml")
    assert len(warnings) == 1 and "nested too deeply" in warnings[0]
    assert "\n" not in warnings[0]


def test_masking_walks_any_depth() -> None:
    deep = {"execute": "x", "arguments": {"a": nested(100_000, {"password": "p"})}}
    masked = mask_value(deep)
    leaf = masked["arguments"]["a"]
    for _ in range(100_000):
        leaf = leaf[0]
    assert leaf == {"password": MASK}
    # too deep to parse: masked by "name": "value" pairs, never recursing
    assert '"p"' not in mask_line('{"password": "p", "a": ' + deep_text(100_000) + "}")


def test_rendering_and_logging_never_crash_on_depth() -> None:
    deep = {"return": nested(100_000)}
    for pretty in (True, False):
        assert "nested too deeply" in Renderer(pretty=pretty).reply(deep)
    out = io.StringIO()
    MessageLog(out).write(SENT, deep)
    assert "nested too deeply to log" in out.getvalue()


def test_a_log_file_on_a_full_disk_is_said_once_and_the_session_goes_on() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    said: list[str] = []
    log = MessageLog.open("/dev/full", on_error=said.append)
    log.write(SENT, {"execute": "query-status"})
    log.write(SENT, {"execute": "query-name"})
    log.close()
    assert said == ["cannot write to the log file /dev/full: No space left on device; "
                    "logging stopped"]
