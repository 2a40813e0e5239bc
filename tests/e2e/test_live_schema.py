"""Against a real QEMU: the live schema is introspected, cached, and types lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES
from helpers.qemu_process import QemuProcess, make_scratch_image
from qemu.qmp import QMPClient
from qemu.qmp.qmp_client import ExecuteError

from qmpshell.errors import ParseError
from qmpshell.schema.introspect import live_schemas, load_live_schema
from qmpshell.schema.model import Schema
from qmpshell.schema.table import load_bundled_schema

Execute = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class Server:
    """A bare qemu.qmp client, in the ``execute`` shape introspect takes, that
    records the commands it sends."""

    def __init__(self, client: QMPClient) -> None:
        self.client = client
        self.sent: list[str] = []

    @property
    def greeting(self) -> dict[str, Any]:
        assert self.client.greeting is not None
        return json.loads(bytes(self.client.greeting._raw))  # type: ignore[no-any-return]

    async def execute(self, request: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(request["execute"])
        try:
            value = await self.client.execute(request["execute"], request.get("arguments"))
        except ExecuteError as err:
            return {"error": {"class": err.error_class, "desc": err.error.error.desc}}
        return {"return": value}


async def connected(qemu: QemuProcess) -> Server:
    client = QMPClient("test")
    await client.connect(str(qemu.socket_path))
    return Server(client)


async def live_schema(qemu: QemuProcess, cache: Path | None) -> tuple[Schema, Server]:
    server = await connected(qemu)
    try:
        schema = await load_live_schema(server.execute, server.greeting,
                                        load_bundled_schema(), cache)
    finally:
        await server.client.disconnect()
    return schema, server


def test_the_live_schema_is_what_the_server_accepts(qemu: QemuProcess) -> None:
    schema, server = asyncio.run(live_schema(qemu, None))
    assert server.sent == ["query-qmp-schema"]
    assert {"query-qmp-schema", "qmp_capabilities", "blockdev-add", "quit"} <= set(schema.commands)
    assert schema.arguments("blockdev-add").tag == "driver"
    assert "query-cpus" not in schema.commands  # in the bundled spec, gone from QEMU 6.0
    resize = schema.command("block_resize")
    assert resize is not None and resize.examples  # documented by the spec
    version = server.greeting["QMP"]["version"]
    dump = json.loads((FIXTURES / "qemu-7.2-query-version.json").read_text())["return"]
    if version["package"] == dump["package"]:  # the very QEMU the fixture came from
        commands = json.loads((FIXTURES / "qemu-7.2-query-commands.json").read_text())
        assert set(schema.commands) == {c["name"] for c in commands["return"]}


def test_the_second_start_loads_from_the_cache(qemu: QemuProcess, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "qmpshell"
    cold, cold_server = asyncio.run(live_schema(qemu, cache))
    warm, warm_server = asyncio.run(live_schema(qemu, cache))
    assert "query-qmp-schema" in cold_server.sent
    assert warm_server.sent == ["query-target"]
    assert warm == cold
    assert len(list(cache.glob("schema-*.json"))) == 1


def test_the_background_check_confirms_an_up_to_date_cache(
        qemu: QemuProcess, tmp_path: Path) -> None:
    async def every_schema() -> tuple[list[Schema], Server]:
        server = await connected(qemu)
        try:
            stream = live_schemas(server.execute, server.greeting, load_bundled_schema(),
                                  tmp_path)
            return [s async for s in stream], server
        finally:
            await server.client.disconnect()

    first, _ = asyncio.run(every_schema())
    again, server = asyncio.run(every_schema())
    assert len(first) == 1 and again == first  # checked, unchanged: nothing more yielded
    assert server.sent == ["query-target", "query-qmp-schema"]


# -- typing lines with the live schema (needs the shorthand parser) -------------
@pytest.fixture
def shorthand() -> Any:
    return pytest.importorskip("qmpshell.shorthand.parser")


def test_a_line_typed_by_the_live_schema_adds_a_block_node(
        qemu: QemuProcess, tmp_path: Path, shorthand: Any) -> None:
    image = make_scratch_image(tmp_path / "disk1.qcow2", "16M")
    line = f"blockdev-add driver=qcow2 node-name=disk1 file.driver=file file.filename={image}"

    async def run() -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
        server = await connected(qemu)
        try:
            schema = await load_live_schema(server.execute, server.greeting,
                                            load_bundled_schema(), tmp_path / "cache")
            request = shorthand.parse_line(line, schema)
            reply = await server.execute(request)
            nodes = await server.execute({"execute": "query-named-block-nodes"})
            return reply, nodes["return"], server.sent
        finally:
            await server.client.disconnect()

    reply, nodes, sent = asyncio.run(run())
    assert reply == {"return": {}}
    disk = [n for n in nodes if n["node-name"] == "disk1"]
    assert len(disk) == 1
    assert disk[0]["drv"] == "qcow2" and disk[0]["file"] == str(image)
    assert sent[-2:] == ["blockdev-add", "query-named-block-nodes"]


def test_an_enum_typo_is_refused_before_anything_is_sent(
        qemu: QemuProcess, tmp_path: Path, shorthand: Any) -> None:
    line = "blockdev-add driver=qcw2 node-name=disk1 file.driver=file file.filename=/x.qcow2"

    async def run() -> tuple[str, list[str], list[dict[str, Any]]]:
        server = await connected(qemu)
        try:
            schema = await load_live_schema(server.execute, server.greeting,
                                            load_bundled_schema(), None)
            before = list(server.sent)
            with pytest.raises(ParseError) as caught:
                shorthand.parse_line(line, schema)
            after = list(server.sent)
            assert after == before
            nodes = await server.execute({"execute": "query-named-block-nodes"})
            return str(caught.value), after, nodes["return"]
        finally:
            await server.client.disconnect()

    message, sent, nodes = asyncio.run(run())
    assert "driver" in message and "did you mean 'qcow2'" in message
    assert sent == ["query-qmp-schema"]
    assert nodes == []
