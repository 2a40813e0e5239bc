"""Against a real QEMU: the live schema is introspected, cached, and types lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES
from qemu.qmp import QMPClient
from qemu.qmp.qmp_client import ExecuteError
from qemu_process import QemuProcess

from qmpshell.introspect import live_schemas, load_live_schema
from qmpshell.schema import Schema
from qmpshell.table import load_bundled_schema

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
    return pytest.importorskip("qmpshell.shorthand")
