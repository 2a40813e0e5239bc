"""The client against a real QEMU (UNIX and TCP) and a fake server for faults."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from helpers.fake_server import FakeQMP, answer, bytewise, close_mid_reply, garbage, huge, never
from helpers.qemu_process import QemuProcess

from qmpshell.errors import CommandTimeout, ConnectError
from qmpshell.secrets import MASK
from qmpshell.wire.client import Connection, parse_address
from qmpshell.wire.logfile import MessageLog

T = TypeVar("T")


def run(factory: Callable[[], Awaitable[T]]) -> T:
    async def with_deadline() -> T:
        return await asyncio.wait_for(factory(), 30)
    return asyncio.run(with_deadline())


async def connected(address: str, **kw: Any) -> Connection:
    conn = Connection(address, **kw)
    await conn.connect()
    return conn


def test_parse_address() -> None:
    assert parse_address("/run/qmp.sock") == "/run/qmp.sock"
    assert parse_address("qmp.sock") == "qmp.sock"
    assert parse_address("localhost:4444") == ("localhost", 4444)
    assert parse_address("[::1]:4444") == ("::1", 4444)
    assert parse_address("./odd:name") == "./odd:name"


# -- a real QEMU -------------------------------------------------------------
@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_greeting_and_replies_without_ids(qemu: QemuProcess, transport: str) -> None:
    address = str(qemu.socket_path) if transport == "unix" else f"127.0.0.1:{qemu.tcp_port}"

    async def go() -> tuple[dict[str, Any] | None, dict[str, Any], dict[str, Any]]:
        conn = await connected(address, timeout=10)
        try:
            ok = await conn.execute({"execute": "query-status"})
            bad = await conn.execute({"execute": "device_del", "arguments": {"id": "nope"}})
            return conn.greeting, ok, bad
        finally:
            await conn.close()

    greeting, ok, bad = run(go)
    assert greeting is not None and greeting["QMP"]["version"]["qemu"]["major"] >= 2
    assert ok == {"return": {"status": "running", "singlestep": False, "running": True}} \
        or ok["return"]["status"] == "running"
    assert "id" not in ok
    assert bad == {"error": {"class": "DeviceNotFound", "desc": "Device 'nope' not found"}}


def test_events_are_ordered_against_replies(qemu: QemuProcess, direct: bool) -> None:
    async def go() -> list[str]:
        conn = await connected(str(qemu.socket_path), timeout=10, direct_reads=direct)
        order: list[str] = []
        try:
            for command in ("stop", "cont"):
                reply = await conn.send({"execute": command})
                order += [e["event"] for e in conn.take_events(before=reply.seq)]
                order.append(f"reply:{command}")
        finally:
            await conn.close()
        return order

    assert run(go) == ["STOP", "reply:stop", "RESUME", "reply:cont"]


def test_events_iterator_delivers_while_waiting(qemu: QemuProcess) -> None:
    async def go() -> str:
        conn = await connected(str(qemu.socket_path), timeout=10)
        try:
            async def first_event() -> str:
                async for event in conn.events():
                    return str(event["event"])
                return ""
            waiting = asyncio.ensure_future(first_event())
            await conn.execute({"execute": "stop"})
            return await asyncio.wait_for(waiting, 10)
        finally:
            await conn.close()

    assert run(go) == "STOP"


def test_lost_connection_when_qemu_quits(qemu: QemuProcess) -> None:
    async def go() -> str:
        conn = await connected(str(qemu.socket_path), timeout=10)
        try:
            await conn.execute({"execute": "quit"})
            assert await conn.wait_events(10) in (True, False)
            with pytest.raises(ConnectError) as info:
                for _ in range(100):  # until the library has seen the hang-up
                    await conn.execute({"execute": "query-status"})
            return str(info.value)
        finally:
            await conn.close()

    assert run(go).startswith("connection lost: ")


# -- connecting fails cleanly --------------------------------------------------
def test_missing_socket(tmp_path: Path) -> None:
    with pytest.raises(ConnectError, match="no such socket"):
        run(lambda: connected(str(tmp_path / "absent.sock")))


def test_refused(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()  # the file stays, nobody listens
    with pytest.raises(ConnectError, match="connection refused"):
        run(lambda: connected(str(path)))


@pytest.mark.parametrize("greeting, message", [
    ("silent", "no greeting within 0.5 s"),
    ("close", "closed the connection before greeting"),
    ("garbage", "did not understand the server's greeting"),
])
def test_bad_greetings(tmp_path: Path, greeting: str, message: str) -> None:
    with FakeQMP(tmp_path, greeting=greeting) as server, \
            pytest.raises(ConnectError, match=message):
        run(lambda: connected(server.address, timeout=0.5))


def test_skip_negotiation_without_greeting(tmp_path: Path) -> None:
    with FakeQMP(tmp_path, greeting="none",
                 behaviours={"guest-ping": answer({})}) as server:
        async def go() -> tuple[Any, dict[str, Any]]:
            conn = await connected(server.address, negotiate=False, timeout=5)
            try:
                return conn.greeting, await conn.execute({"execute": "guest-ping"})
            finally:
                await conn.close()
        greeting, reply = run(go)
    assert greeting is None
    assert reply == {"return": {}}
    assert [r["execute"] for r in server.received] == ["guest-ping"]


# -- faults after connecting ---------------------------------------------------
@pytest.fixture(params=[False, True], ids=["loop", "direct"])
def direct(request: pytest.FixtureRequest) -> bool:
    """Both ways a reply is read: through the event loop, and directly."""
    return bool(request.param)


def exchange(tmp_path: Path, behaviour: Any, **kw: Any) -> dict[str, Any]:
    with FakeQMP(tmp_path, behaviours={"query-status": behaviour}) as server:
        async def go() -> dict[str, Any]:
            conn = await connected(server.address, **kw)
            try:
                return await conn.execute({"execute": "query-status"})
            finally:
                await conn.close()
        return run(go)


def test_reply_one_byte_at_a_time(tmp_path: Path, direct: bool) -> None:
    assert exchange(tmp_path, bytewise, timeout=20, direct_reads=direct) == {
        "return": {"status": "running", "running": True}}


def test_sixteen_mib_reply_arrives_whole(tmp_path: Path, direct: bool) -> None:
    size = 16 * 1024 * 1024
    reply = exchange(tmp_path, huge(size), timeout=20, direct_reads=direct)
    assert len(reply["return"]) == size


def test_garbage_reply(tmp_path: Path, direct: bool) -> None:
    with pytest.raises(ConnectError, match="connection lost: the server sent malformed JSON"):
        exchange(tmp_path, garbage, timeout=5, direct_reads=direct)


def test_closed_mid_reply(tmp_path: Path, direct: bool) -> None:
    with pytest.raises(ConnectError, match="in the middle of a message"):
        exchange(tmp_path, close_mid_reply, timeout=5, direct_reads=direct)


def test_no_reply_times_out(tmp_path: Path, direct: bool) -> None:
    with pytest.raises(CommandTimeout, match="no reply to query-status within 0.3 s"):
        exchange(tmp_path, never, timeout=0.3, direct_reads=direct)


# -- the message log -----------------------------------------------------------
def test_log_masks_secrets_but_server_gets_them(tmp_path: Path) -> None:
    log_path = tmp_path / "qmp.log"
    request = {"execute": "set_password",
               "arguments": {"protocol": "vnc", "password": "hunter2"}}
    with FakeQMP(tmp_path) as server, open(log_path, "a") as stream:
        async def go() -> None:
            conn = await connected(server.address, timeout=5, log=MessageLog(stream))
            try:
                await conn.execute(request)
            finally:
                await conn.close()
        run(go)
    assert server.received[-1]["arguments"]["password"] == "hunter2"
    entries = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [e["direction"] for e in entries] == ["received", "sent", "received", "sent",
                                                 "received"]
    sent = entries[3]["message"]
    assert sent["execute"] == "set_password"
    assert sent["arguments"]["password"] == MASK
    assert "hunter2" not in log_path.read_text()
    assert all(e["time"].endswith("+00:00") for e in entries)


# -- the next request, named early ----------------------------------------------
def test_next_request_goes_out_after_a_successful_reply(qemu: QemuProcess, direct: bool,
                                                        tmp_path: Path) -> None:
    """``then`` names the next request; it is sent once, after the reply, in
    order, and the caller's send of the same object collects its reply."""
    log_path = tmp_path / "qmp.log"
    first, second = {"execute": "stop"}, {"execute": "query-status"}

    async def go() -> tuple[dict[str, Any], dict[str, Any], list[str]]:
        with open(log_path, "a") as stream:
            conn = await connected(str(qemu.socket_path), timeout=10, direct_reads=direct,
                                   log=MessageLog(stream))
            try:
                a = await conn.send(first, then=lambda: second)
                b = await conn.send(second)
                events = [e["event"] for e in conn.take_events()]
            finally:
                await conn.close()
        return a.message, b.message, events

    a, b, events = run(go)
    assert a == {"return": {}}
    assert b["return"]["status"] == "paused"
    assert events == ["STOP"]
    entries = [json.loads(line) for line in log_path.read_text().splitlines()][3:]
    flow = [(e["direction"], e["message"].get("execute", e["message"].get("event", "reply")))
            for e in entries]
    assert flow == [("sent", "stop"), ("received", "STOP"), ("received", "reply"),
                    ("sent", "query-status"), ("received", "reply")]
    assert len({e["message"].get("id") for e in entries if e["direction"] == "sent"}) == 2


def test_next_request_is_not_sent_after_an_error(qemu: QemuProcess, direct: bool) -> None:
    """After an error reply the caller decides (``-e`` stops): the named request
    stays unsent when the caller sends something else."""
    async def go() -> dict[str, Any]:
        conn = await connected(str(qemu.socket_path), timeout=10, direct_reads=direct)
        try:
            bad = await conn.send({"execute": "device_del", "arguments": {"id": "nope"}},
                                  then=lambda: {"execute": "stop"})
            assert "error" in bad.message
            return await conn.execute({"execute": "query-status"})
        finally:
            await conn.close()

    assert run(go)["return"]["status"] == "running"


def test_next_request_fails_cleanly_when_the_server_goes(tmp_path: Path) -> None:
    """A request sent early whose connection then breaks fails on collection
    like any other request."""
    with FakeQMP(tmp_path, behaviours={"query-status": answer({}),
                                       "query-name": close_mid_reply}) as server:
        async def go() -> str:
            conn = await connected(server.address, timeout=5, direct_reads=True)
            second = {"execute": "query-name"}
            try:
                await conn.send({"execute": "query-status"}, then=lambda: second)
                with pytest.raises(ConnectError) as info:
                    await conn.send(second)
                return str(info.value)
            finally:
                await conn.close()
        assert "in the middle of a message" in run(go)
    assert [r["execute"] for r in server.received][-2:] == ["query-status", "query-name"]
