"""--schema FILE reads a spec (plain or annotated) or a saved query-qmp-schema reply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, SPEC_PATH

from qmpshell.errors import SchemaError
from qmpshell.schema.files import load_schema_file, save_schema
from qmpshell.schema.introspect import schema_from_qapi
from qmpshell.schema.spec import source_lines

REPLY_PATH = FIXTURES / "qemu-7.2-query-qmp-schema.json"


def test_a_saved_reply_loads_as_the_live_schema() -> None:
    schema = load_schema_file(REPLY_PATH)
    assert len(schema.commands) == 216
    assert schema.arguments("blockdev-add").tag == "driver"
    assert schema.source == str(REPLY_PATH)


def test_the_bare_list_loads_too(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(json.loads(REPLY_PATH.read_text())["return"]))
    assert set(load_schema_file(path).commands) == set(load_schema_file(REPLY_PATH).commands)


def test_the_annotated_spec_loads() -> None:
    schema = load_schema_file(SPEC_PATH)
    assert len(schema.commands) == 117
    assert schema.command("block_resize") is not None
    assert schema.source == str(SPEC_PATH)


def test_the_plain_spec_loads_the_same_commands(tmp_path: Path) -> None:
    plain = tmp_path / "qmp-commands.hx"
    text = "\n".join(line.text for line in source_lines(SPEC_PATH.read_text())) + "\n"
    plain.write_text(text)
    assert load_schema_file(plain).commands.keys() == load_schema_file(SPEC_PATH).commands.keys()


def test_save_then_load_gives_the_same_schema(tmp_path: Path) -> None:
    reply = json.loads(REPLY_PATH.read_text())
    for given in (reply, reply["return"]):
        path = tmp_path / "saved.json"
        save_schema(given, path)
        assert json.loads(path.read_text()) == reply
        assert load_schema_file(path) == schema_from_qapi(reply, source=str(path))
    assert [p.name for p in tmp_path.iterdir()] == ["saved.json"]
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(("content", "says"), [
    (b"", "no command table entries"),
    (b"hello\n", "unexpected text"),
    (b'{"return": [1, 2', ":1: invalid JSON"),
    (b'{"return": {"major": 7}}', "not a query-qmp-schema reply"),
    (b"[1, 2, 3]", "not a query-qmp-schema reply"),
    (b"\xff\xfe\x00binary", "not a text file"),
])
def test_unusable_files_are_named_in_a_clear_error(
        tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "bad.schema"
    path.write_bytes(content)
    with pytest.raises(SchemaError) as caught:
        load_schema_file(path)
    assert str(caught.value).startswith(str(path))
    assert says in str(caught.value)
    assert caught.value.exit_code == 2


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"nope\.json: cannot read: No such file"):
        load_schema_file(tmp_path / "nope.json")


def test_saving_refuses_what_is_not_a_schema_and_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "saved.json"
    path.write_text("old")
    with pytest.raises(SchemaError):
        save_schema({"return": {}}, path)
    with pytest.raises(SchemaError, match="cannot write"):
        save_schema([], tmp_path / "no" / "such" / "dir.json")
    assert path.read_text() == "old"
