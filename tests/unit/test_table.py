"""The bundled command table as the schema the shell starts with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qmpshell.errors import SchemaError
from qmpshell.schema.model import Example, Schema
from qmpshell.schema.spec import read_spec
from qmpshell.schema.table import load_bundled_schema, schema_from_spec_text, schema_from_table

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "qmpshell" / "schema" / "data" / "qmp-commands.hx.blame.txt"
TABLE = ROOT / "qmpshell" / "schema" / "data" / "commands.json"


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_bundled_schema()


def test_bundled_schema_has_the_spec_commands(schema: Schema) -> None:
    spec = read_spec(SPEC.read_text(encoding="utf-8"))
    assert schema.source == "bundled"
    assert schema.command_names() == sorted(c.name for c in spec)
    assert len(schema.commands) == 117
    for c in spec:
        command = schema.commands[c.name]
        assert command.code == c.code
        assert command.group == c.group
        assert command.targets == c.targets
        assert command.doc == c.doc and command.title == c.title
        assert command.examples == c.examples


def test_arguments_are_an_object_type_per_command(schema: Schema) -> None:
    spec = {c.name: c for c in read_spec(SPEC.read_text(encoding="utf-8"))}
    for name, command in schema.commands.items():
        info = schema.arguments(command)
        assert command.args_type == f"{name}.arguments" == info.name
        assert info.kind == "object"
        if not spec[name].open:
            assert [m.name for m in info.members] == [a.name for a in spec[name].arguments]
            assert [m.optional for m in info.members] == [a.optional for a in spec[name].arguments]


def members(schema: Schema, command: str) -> list[tuple[str, str, bool, str]]:
    return [
        (m.name, schema.describe(m.type), m.optional, m.hint)
        for m in schema.arguments(command).members
    ]


def test_block_resize(schema: Schema) -> None:
    assert members(schema, "block_resize") == [
        ("device", "string", True, "block-device"),
        ("node-name", "string", True, "node-name"),
        ("size", "size", False, ""),
    ]
    command = schema.command("block_resize")
    assert command is not None
    assert command.code == "device:s?,node-name:s?,size:o"
    assert command.title == "Resize a block image while a guest is running."


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("eject", [("force", "flag", True, ""), ("device", "string", False, "block-device")]),
        (
            "change",
            [
                ("device", "string", False, "block-device"),
                ("target", "file name", False, "file"),
                ("arg", "string", True, ""),
            ],
        ),
        ("migrate_set_downtime", [("value", "number", False, "")]),
        ("balloon", [("value", "size", False, "")]),
        ("set_link", [("name", "string", False, ""), ("up", "boolean", False, "")]),
        ("cpu-add", [("id", "integer", False, "")]),
        ("transaction", [("actions", "any JSON", False, "")]),
        ("device_del", [("id", "string", False, "device-id")]),
        ("ringbuf-write", [
            ("device", "string", False, "chardev"),
            ("data", "string", False, ""),
            ("format", "string", True, ""),
        ]),
        ("qom-get", [("path", "string", False, "qom-path"), ("property", "string", False, "")]),
        ("send-key", [("keys", "list of any JSON", False, ""), ("hold-time", "integer", True, "")]),
        ("migrate-set-capabilities", [("capabilities", "list of any JSON", False, "")]),
        ("query-version", []),
    ],
)  # fmt: skip
def test_argument_types_and_hints(
    schema: Schema, command: str, expected: list[tuple[str, str, bool, str]]
) -> None:
    assert members(schema, command) == expected


def test_options_commands_take_any_key(schema: Schema) -> None:
    for name, documented in [
        ("device_add", ["driver", "bus", "id"]),
        ("netdev_add", ["type", "id"]),
    ]:
        info = schema.arguments(name)
        assert info.open
        assert schema.describe(info.name) == "object"
        # the documented keys are offered, none enforced (the driver decides)
        assert [(m.name, m.type, m.optional) for m in info.members] == [
            (key, "str", True) for key in documented
        ]
    closed = schema.arguments("block_resize")
    assert not closed.open


def test_examples_are_schema_examples(schema: Schema) -> None:
    command = schema.command("eject")
    assert command is not None
    assert command.examples == (
        Example(103, "->", {"execute": "eject", "arguments": {"device": "ide1-cd0"}}),
        Example(104, "<-", {"return": {}}),
    )
    balloon = schema.command("query-balloon")
    assert balloon is not None
    reply = balloon.examples[1]
    assert (reply.line, reply.valid, reply.json) == (3336, False, None)
    assert reply.text.startswith('{\n"return":{')
    requests = sum(1 for c in schema.commands.values() for e in c.examples if e.direction == "->")
    assert requests == 108


def test_targets_and_groups(schema: Schema) -> None:
    rtc = schema.command("rtc-reset-reinjection")
    assert rtc is not None and rtc.targets == ("TARGET_I386",)
    spice = schema.command("query-spice")
    assert spice is not None and (spice.group, spice.targets) == ("query", ("CONFIG_SPICE",))
    quit_ = schema.command("quit")
    assert quit_ is not None and (quit_.group, quit_.targets) == ("regular", ())


def test_each_load_is_a_new_schema() -> None:
    first, second = load_bundled_schema(), load_bundled_schema()
    assert first is not second
    first.commands.pop("quit")
    assert "quit" in second.commands


def test_schema_from_spec_text_matches_the_bundled_table(schema: Schema) -> None:
    from_spec = schema_from_spec_text(SPEC.read_text(encoding="utf-8"), "my.hx")
    assert from_spec.source == "my.hx"
    assert from_spec.commands == schema.commands
    assert from_spec.types == schema.types


def test_schema_from_spec_text_errors_are_schema_errors() -> None:
    with pytest.raises(SchemaError, match="no command table entries"):
        schema_from_spec_text("HXCOMM only a comment\n", "empty.hx")


def test_unusable_tables_are_schema_errors() -> None:
    data = json.loads(TABLE.read_text(encoding="utf-8"))
    with pytest.raises(SchemaError, match="format 2, expected 1"):
        schema_from_table({**data, "format": 2}, "t.json")
    with pytest.raises(SchemaError, match="malformed command table"):
        schema_from_table({"format": 1}, "t.json")
    broken = json.loads(TABLE.read_text(encoding="utf-8"))
    del broken["commands"][0]["arguments"]
    with pytest.raises(SchemaError, match="malformed command table"):
        schema_from_table(broken, "t.json")


def test_table_file_is_sorted_and_stable() -> None:
    text = TABLE.read_text(encoding="utf-8")
    data = json.loads(text)
    names = [c["name"] for c in data["commands"]]
    assert names == sorted(names) and len(names) == 117
    assert text.endswith("}\n") and "\r" not in text
    assert data["source"] == "qmp-commands.hx.blame.txt"
    assert "GPL-2.0" in data["license"]


def test_loading_imports_no_spec_reader_and_nothing_heavy() -> None:
    code = (
        "import sys, qmpshell.schema.table\n"
        "s = qmpshell.schema.table.load_bundled_schema()\n"
        "heavy = ['qmpshell.schema.spec', 'prompt_toolkit', 'pygments', 'asyncio', 'qemu']\n"
        "print(len(s.commands), [m for m in heavy if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "117 []\n"
