"""The disk cache: a second start against the same QEMU needs no schema round trip."""

from __future__ import annotations

import asyncio
import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES

from qmpshell.schema import cache as schemacache
from qmpshell.schema.introspect import (
    documented_by,
    live_schemas,
    load_live_schema,
    merge_schemas,
    schema_from_qapi,
)
from qmpshell.schema.model import Command, Example, Member, Schema, TypeInfo
from qmpshell.schema.table import load_bundled_schema

REPLY = json.loads((FIXTURES / "qemu-7.2-query-qmp-schema.json").read_text())
GREETING = {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 22},
                                "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"},
                    "capabilities": ["oob"]}}


class FakeServer:
    """Answers like QEMU 7.2 and records what was asked."""

    def __init__(self, reply: dict[str, Any] = REPLY, arch: str = "x86_64") -> None:
        self.reply = reply
        self.arch = arch
        self.sent: list[str] = []

    async def execute(self, request: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(request["execute"])
        if request["execute"] == "query-qmp-schema":
            return self.reply
        if request["execute"] == "query-target":
            return {"return": {"arch": self.arch, "cpu-type": "foo"}}
        return {"error": {"class": "CommandNotFound", "desc": "not here"}}


@pytest.fixture(scope="module")
def bundled() -> Schema:
    return load_bundled_schema()


def load(server: FakeServer, cache: Path | None, bundled: Schema,
         greeting: dict[str, Any] = GREETING) -> Schema:
    return asyncio.run(load_live_schema(server.execute, greeting, bundled, cache))


def collect(server: FakeServer, cache: Path, bundled: Schema) -> list[Schema]:
    async def run() -> list[Schema]:
        return [s async for s in live_schemas(server.execute, GREETING, bundled, cache)]
    return asyncio.run(run())


def test_cold_then_warm_gives_an_equal_model_without_the_round_trip(
        tmp_path: Path, bundled: Schema) -> None:
    cold_server, warm_server = FakeServer(), FakeServer()
    cold = load(cold_server, tmp_path, bundled)
    assert "query-qmp-schema" in cold_server.sent
    assert len(list(tmp_path.glob("schema-*.json"))) == 1
    warm = load(warm_server, tmp_path, bundled)
    assert warm_server.sent == ["query-target"]
    assert warm.commands == cold.commands
    assert warm.types == cold.types
    assert warm.events == cold.events
    assert warm == merge_schemas(schema_from_qapi(REPLY), bundled)


def test_an_unchanged_schema_is_confirmed_without_a_second_model(
        tmp_path: Path, bundled: Schema) -> None:
    collect(FakeServer(), tmp_path, bundled)
    assert len(collect(FakeServer(), tmp_path, bundled)) == 1


def test_a_stale_entry_is_used_then_replaced(tmp_path: Path, bundled: Schema) -> None:
    """Same version and package (a developer's rebuild), different schema."""
    collect(FakeServer(), tmp_path, bundled)
    rebuilt = copy.deepcopy(REPLY)
    rebuilt["return"].append({"name": "x-new-command", "meta-type": "command",
                              "arg-type": "0", "ret-type": "0"})
    first, fresh = collect(FakeServer(rebuilt), tmp_path, bundled)
    assert "x-new-command" not in first.commands
    assert "x-new-command" in fresh.commands
    server = FakeServer(rebuilt)
    assert "x-new-command" in load(server, tmp_path, bundled).commands
    assert server.sent == ["query-target"]


@pytest.mark.parametrize("content", [
    b"", b"{not json", b"\xff\xfe garbage", b"[]", b'{"format": 1}',
    b'{"format": 999, "key": "k", "digest": "d", "schema": {}}',
])
def test_a_corrupt_entry_is_ignored(tmp_path: Path, bundled: Schema, content: bytes) -> None:
    load(FakeServer(), tmp_path, bundled)
    (entry,) = tmp_path.glob("schema-*.json")
    entry.write_bytes(content)
    server = FakeServer()
    assert len(load(server, tmp_path, bundled).commands) == 216
    assert "query-qmp-schema" in server.sent
    assert len(schemacache.unpack(entry.read_bytes())["digest"]) == 64  # rewritten


def test_a_tampered_entry_reads_as_unchecked_not_as_a_broken_schema(
        tmp_path: Path, bundled: Schema) -> None:
    """Entries are decoded when first looked up: a tampered one costs its own
    checks (it reads as 'any'), while the others still check as before."""
    load(FakeServer(), tmp_path, bundled)
    (entry,) = tmp_path.glob("schema-*.json")
    data = schemacache.unpack(entry.read_bytes())
    name = "block_resize.arguments"
    assert name in data["schema"]["types"]
    data["schema"]["types"][name] = json.dumps({"name": name, "kind": "object",
                                                "members": [[5, "str"]]})
    entry.write_bytes(schemacache.pack(data))
    key = entry.name.removeprefix("schema-").removesuffix(".json")
    loaded = schemacache.load(tmp_path, key, documented_by())
    assert loaded is not None
    schema = loaded.schema
    assert schema.resolve(name).builtin == "any"
    assert schema.members_for(name) == []
    fresh = merge_schemas(schema_from_qapi(REPLY), bundled)
    kept = schema.arguments("blockdev-snapshot-sync").members
    assert kept and kept == fresh.arguments("blockdev-snapshot-sync").members


@pytest.mark.parametrize("outline", [
    {"types": [], "commands": {}, "events": {}},
    {"types": {}, "commands": [], "events": {}},
    {"types": {}, "commands": {}},
])
def test_a_malformed_outline_is_a_miss(tmp_path: Path, bundled: Schema,
                                       outline: dict[str, Any]) -> None:
    load(FakeServer(), tmp_path, bundled)
    (entry,) = tmp_path.glob("schema-*.json")
    data = schemacache.unpack(entry.read_bytes())
    outline_line = json.dumps({**data, "schema": outline})
    entry.write_text(outline_line + "\n")
    key = entry.name.removeprefix("schema-").removesuffix(".json")
    assert schemacache.load(tmp_path, key, documented_by()) is None


def test_an_entry_documented_by_another_table_is_a_miss(tmp_path: Path, bundled: Schema) -> None:
    load(FakeServer(), tmp_path, bundled)
    (entry,) = tmp_path.glob("schema-*.json")
    key = entry.name.removeprefix("schema-").removesuffix(".json")
    assert schemacache.load(tmp_path, key, documented_by()) is not None
    assert schemacache.load(tmp_path, key, "another table") is None


def test_another_version_package_or_target_misses(tmp_path: Path, bundled: Schema) -> None:
    load(FakeServer(), tmp_path, bundled)
    other_version = copy.deepcopy(GREETING)
    other_version["QMP"]["version"]["qemu"]["micro"] = 23
    other_package = copy.deepcopy(GREETING)
    other_package["QMP"]["version"]["package"] = "v7.2.0-1-gdeadbeef"
    for server, greeting in ((FakeServer(), other_version), (FakeServer(), other_package),
                             (FakeServer(arch="aarch64"), GREETING)):
        load(server, tmp_path, bundled, greeting)
        assert "query-qmp-schema" in server.sent
    assert len(list(tmp_path.glob("schema-*.json"))) == 4


def test_no_greeting_or_no_cache_dir_means_no_cache(tmp_path: Path, bundled: Schema) -> None:
    server = FakeServer()
    load(server, None, bundled)
    load(server, tmp_path, bundled, greeting={})
    assert list(tmp_path.iterdir()) == []
    assert server.sent == ["query-qmp-schema", "query-qmp-schema"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_cache_dir_only_costs_speed(tmp_path: Path, bundled: Schema) -> None:
    tmp_path.chmod(0o500)
    try:
        assert len(load(FakeServer(), tmp_path / "qmpshell", bundled).commands) == 216
        assert len(load(FakeServer(), tmp_path, bundled).commands) == 216
    finally:
        tmp_path.chmod(0o700)


def test_a_cache_path_that_is_not_a_directory_only_costs_speed(
        tmp_path: Path, bundled: Schema) -> None:
    blocker = tmp_path / "qmpshell"
    blocker.write_text("a file where the cache directory should be")
    for _ in range(2):
        server = FakeServer()
        assert len(load(server, blocker, bundled).commands) == 216
        assert "query-qmp-schema" in server.sent
    assert blocker.read_text().startswith("a file")


def test_writes_leave_no_temporary_files(tmp_path: Path, bundled: Schema) -> None:
    cache = tmp_path / "deep" / "qmpshell"
    load(FakeServer(), cache, bundled)
    load(FakeServer(), cache, bundled)
    assert [p.name for p in cache.iterdir()] == [
        f"schema-{schemacache.cache_key(GREETING, 'x86_64')}.json"]


def test_the_encoding_round_trips_every_field(tmp_path: Path) -> None:
    schema = Schema(
        commands={"c": Command("c", "c.arguments", returns="[int]", doc="Do it.", title="T",
                               group="query", features=("deprecated",), targets=("TARGET_I386",),
                               examples=(Example(3, "->", {"execute": "c"}),
                                         Example(4, "<-", None, text="{ bad", valid=False)),
                               code="a:s")},
        types={"c.arguments": TypeInfo("c.arguments", "object", open=True, tag="a",
                                       variants=(("x", "e"),), features=("f",),
                                       members=(Member("a", "e", True, "doc", ("u",), "file"),
                                                Member("b", "str"))),
               "e": TypeInfo("e", "enum", values=("x", "y")),
               "[int]": TypeInfo("[int]", "array", element="int"),
               "alt": TypeInfo("alt", "alternate", alternatives=("int", "str"))},
        source="somewhere")
    assert schemacache.store(tmp_path, "k", schema, "digest")
    entry = schemacache.load(tmp_path, "k")
    assert entry is not None
    assert entry.schema == schema


def test_the_digest_ignores_key_order_only() -> None:
    entries = REPLY["return"]
    shuffled = [dict(reversed(list(e.items()))) for e in entries]
    assert schemacache.reply_digest(shuffled) == schemacache.reply_digest(entries)
    assert schemacache.reply_digest(entries[1:]) != schemacache.reply_digest(entries)
