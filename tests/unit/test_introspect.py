"""QEMU 7.2's own query-qmp-schema reply becomes the schema model, merged with the spec."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from conftest import FIXTURES

from qmpshell.errors import QMPError, SchemaError
from qmpshell.schema.introspect import (
    load_live_schema,
    merge_schemas,
    schema_from_commands,
    schema_from_qapi,
)
from qmpshell.schema.model import BUILTINS, Command, Member, Schema, TypeInfo
from qmpshell.schema.table import load_bundled_schema

REPLY = json.loads((FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text())
ENTRIES: list[dict[str, Any]] = REPLY["return"]


def names_of(meta: str) -> set[str]:
    return {e["name"] for e in ENTRIES if e["meta-type"] == meta}


@pytest.fixture(scope="module")
def live() -> Schema:
    return schema_from_qapi(REPLY)


@pytest.fixture(scope="module")
def bundled() -> Schema:
    return load_bundled_schema()


@pytest.fixture(scope="module")
def merged(live: Schema, bundled: Schema) -> Schema:
    return merge_schemas(live, bundled)


# -- building the model -------------------------------------------------------
def test_every_command_and_event_of_the_dump_is_in_the_model(live: Schema) -> None:
    assert set(live.commands) == names_of("command")
    assert len(live.commands) == 216
    assert set(live.events) == names_of("event")
    assert len(live.events) == 52
    assert live.source == "live"


def test_every_type_of_the_dump_keeps_its_kind(live: Schema) -> None:
    kinds = Counter(live.types[e["name"]].kind for e in ENTRIES
                    if e["meta-type"] in ("enum", "object", "array", "alternate"))
    assert kinds == {"object": 553, "enum": 132, "array": 86, "alternate": 6}


def test_the_list_and_the_whole_reply_give_the_same_model() -> None:
    assert schema_from_qapi(ENTRIES) == schema_from_qapi(REPLY)


def test_every_type_reference_resolves(live: Schema) -> None:
    """A dangling reference would silently turn into 'any' in Schema.resolve."""
    refs: list[str] = []
    for info in live.iter_types():
        refs += [m.type for m in info.members] + [t for _, t in info.variants]
        refs += list(info.alternatives) + ([info.element] if info.element else [])
    refs += [c.args_type for c in live.commands.values()]
    refs += [c.returns for c in live.commands.values()]
    refs += [e.args_type for e in live.events.values() if e.args_type]
    assert [r for r in refs if r not in live.types] == []


def test_builtins_map_onto_the_model_builtins() -> None:
    reply = [
        {"name": "int8", "meta-type": "builtin", "json-type": "int"},
        {"name": "size", "meta-type": "builtin", "json-type": "int"},
        {"name": "QType", "meta-type": "builtin", "json-type": "string"},
        {"name": "mystery", "meta-type": "builtin", "json-type": "boolean"},
        {"name": "o", "meta-type": "object", "members": [
            {"name": "a", "type": "int8"}, {"name": "b", "type": "size"},
            {"name": "c", "type": "QType"}, {"name": "d", "type": "mystery", "default": None}]},
        {"name": "[int8]", "meta-type": "array", "element-type": "int8"},
        {"name": "cmd", "meta-type": "command", "arg-type": "o", "ret-type": "[int8]"},
    ]
    schema = schema_from_qapi(reply)
    assert [(m.name, m.type, m.optional) for m in schema.types["o"].members] == [
        ("a", "int", False), ("b", "size", False), ("c", "str", False), ("d", "bool", True)]
    assert schema.types["[int8]"].element == "int"
    assert "int8" not in schema.types
    assert {t.name for t in schema.iter_types() if t.kind == "builtin"} == set(BUILTINS)


def test_optional_members_are_those_with_a_default(live: Schema) -> None:
    qcow2 = live.types[live.arguments("blockdev-add").variant_type("qcow2") or ""]
    file = qcow2.member("file")
    assert file is not None and not file.optional
    backing = qcow2.member("backing")
    assert backing is not None and backing.optional


def test_blockdev_add_takes_the_blockdev_options_flat_union(live: Schema) -> None:
    args = live.arguments("blockdev-add")
    assert args.kind == "object" and args.tag == "driver"
    driver = args.member("driver")
    assert driver is not None and not driver.optional
    assert "qcow2" in live.resolve(driver.type).values
    assert {"qcow2", "file", "raw", "nbd"} <= {v for v, _ in args.variants}
    qcow2 = live.resolve(args.variant_type("qcow2") or "")
    file = qcow2.member("file")
    assert file is not None
    ref = live.resolve(file.type)
    assert ref.kind == "alternate"
    assert [live.resolve(a).kind for a in ref.alternatives] == ["object", "builtin"]
    assert ref.alternatives[0] == args.name  # BlockdevOptions, recursively
    assert live.describe(file.type) == "object or string"


def test_members_for_adds_the_branch_chosen_by_the_tag(live: Schema) -> None:
    args = live.arguments("blockdev-add").name
    common = {m.name for m in live.members_for(args)}
    assert {"driver", "node-name", "read-only"} <= common
    assert "lazy-refcounts" not in common
    qcow2 = {m.name for m in live.members_for(args, {"driver": "qcow2"})}
    assert common < qcow2
    assert {"file", "backing", "lazy-refcounts", "l2-cache-size"} <= qcow2
    raw = {m.name for m in live.members_for(args, {"driver": "file"})}
    assert "filename" in raw and "lazy-refcounts" not in raw


def test_object_add_and_chardev_add_are_unions_too(live: Schema) -> None:
    obj = live.arguments("object-add")
    assert obj.tag == "qom-type" and not obj.open
    memory = {m.name for m in live.members_for(obj.name, {"qom-type": "memory-backend-file"})}
    assert {"id", "size", "mem-path"} <= memory
    backend = live.arguments("chardev-add").member("backend")
    assert backend is not None
    assert live.resolve(backend.type).tag == "type"


def test_features_mark_deprecated_and_unstable_commands(live: Schema) -> None:
    assert live.commands["drive-backup"].deprecated
    assert live.commands["nbd-server-add"].deprecated
    assert "unstable" in live.commands["x-query-roms"].features
    assert not live.commands["blockdev-add"].deprecated
    assert live.events["MEM_UNPLUG_ERROR"].features == ("deprecated",)
    device = live.arguments("eject").member("device")
    assert device is not None and device.deprecated and device.optional


def test_device_add_accepts_properties_its_schema_does_not_list(live: Schema) -> None:
    args = live.arguments("device_add")
    assert args.open
    assert [m.name for m in args.members] == ["driver", "bus", "id"]
    assert not live.arguments("netdev_add").open  # a union since QEMU 6.0


def test_describe_never_shows_masked_type_names(live: Schema) -> None:
    args = live.arguments("blockdev-add")
    words = {live.describe(t.name) for t in live.iter_types()}
    assert not any(ch.isdigit() for w in words for ch in w.split(":")[0])
    assert live.describe(args.name) == "object"
    assert live.describe(args.member("discard").type) == "one of: ignore, unmap"  # type: ignore[union-attr]
    assert live.describe("[str]") == "list of string"
    assert live.describe("int") == "integer"
    cache = args.member("cache")
    assert cache is not None and live.describe(cache.type) == "object"


def test_not_a_schema_is_refused() -> None:
    for bad in ({"return": {}}, [{"no": "name"}], "text", {"error": {"class": "x"}}):
        with pytest.raises(SchemaError):
            schema_from_qapi(bad)


def test_servers_without_introspection_take_any_argument() -> None:
    names = [c["name"] for c in
             json.loads((FIXTURES / "qemu-7.2-query-commands.json").read_text())["return"]]
    schema = schema_from_commands(names)
    assert set(schema.commands) == set(names)
    args = schema.arguments("blockdev-add")
    assert args.open and not args.members
    assert schema.command("blockdev-add").group == "live"  # type: ignore[union-attr]


# -- merging with the bundled spec ---------------------------------------------
def test_merge_keeps_spec_docs_and_live_types(merged: Schema, bundled: Schema) -> None:
    resize = merged.command("block_resize")
    spec = bundled.command("block_resize")
    assert resize is not None and spec is not None
    assert resize.doc == spec.doc and resize.title == spec.title
    assert resize.examples == spec.examples and resize.group == "regular"
    device = merged.arguments(resize).member("device")
    assert device is not None and device.doc and device.hint == "block-device"
    assert merged.arguments(resize).member("size").type == "size"  # type: ignore[union-attr]


def test_merge_offers_only_what_the_server_has(merged: Schema, bundled: Schema) -> None:
    assert "query-cpus" in bundled.commands and "query-cpus" not in merged.commands
    assert "cpu-add" not in merged.commands
    assert set(merged.commands) == names_of("command")
    assert merged.command("block-export-add").group == "live"  # type: ignore[union-attr]
    assert merged.command("query-status").group == "query"  # type: ignore[union-attr]


def test_merge_keeps_the_live_features_and_union_types(merged: Schema, live: Schema) -> None:
    assert merged.command("drive-backup").deprecated  # type: ignore[union-attr]
    assert merged.arguments("blockdev-add") == live.arguments("blockdev-add")
    assert merged.events == live.events
    qcow2 = {m.name for m in merged.members_for(merged.arguments("blockdev-add").name,
                                                  {"driver": "qcow2"})}
    assert "lazy-refcounts" in qcow2


def test_merge_does_not_document_a_shared_type_for_everyone() -> None:
    shared = TypeInfo(name="7", kind="object", members=(Member("id", "str"),))
    live = Schema(commands={"a": Command("a", "7"), "b": Command("b", "7")},
                  types={"7": shared})
    spec_args = TypeInfo(name="a.arguments", kind="object",
                         members=(Member("id", "str", doc="the thing a frobs"),))
    bundled = Schema(commands={"a": Command("a", "a.arguments", doc="Frob.")},
                     types={"a.arguments": spec_args})
    merged = merge_schemas(live, bundled)
    assert merged.arguments("a").member("id").doc == "the thing a frobs"  # type: ignore[union-attr]
    assert merged.arguments("b").member("id").doc == ""  # type: ignore[union-attr]
    assert merged.types["7"] == shared


def test_merge_types_free_form_commands_from_the_spec(bundled: Schema) -> None:
    merged = merge_schemas(schema_from_commands(["block_resize", "new-thing"]), bundled)
    assert set(merged.commands) == {"block_resize", "new-thing"}
    assert merged.arguments("block_resize") == bundled.arguments("block_resize")
    assert merged.arguments("new-thing").open


# -- loading from a server (a scripted execute; the real one is in test_live_schema) --
def scripted(replies: dict[str, dict[str, Any]]) -> tuple[Any, list[str]]:
    sent: list[str] = []

    async def execute(request: dict[str, Any]) -> dict[str, Any]:
        sent.append(request["execute"])
        not_found = {"error": {"class": "CommandNotFound", "desc": "no"}}
        return replies.get(request["execute"], not_found)

    return execute, sent


def test_falls_back_to_query_commands(bundled: Schema) -> None:
    execute, sent = scripted({"query-commands": {"return": [{"name": "block_resize"},
                                                            {"name": "quit"}]}})
    schema = asyncio.run(load_live_schema(execute, None, bundled, None))
    assert sent == ["query-qmp-schema", "query-commands"]
    assert set(schema.commands) == {"block_resize", "quit"}


def test_other_errors_are_reported(bundled: Schema) -> None:
    execute, _ = scripted({"query-qmp-schema": {
        "error": {"class": "GenericError", "desc": "out of memory"}}})
    with pytest.raises(QMPError, match="out of memory"):
        asyncio.run(load_live_schema(execute, None, bundled, None))
