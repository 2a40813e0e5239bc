"""Both drivers against a real QEMU (UNIX and TCP) and a fake server for
faults: the same tests, the same sentences."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.drivers import DRIVERS, Connect, driver
from helpers.fake_server import (
    OLD_GREETING,
    FakeQMP,
    answer,
    bytewise,
    close_mid_reply,
    deep,
    garbage,
    huge,
    late,
    never,
    wrong_id,
)
from helpers.qemu_process import QemuProcess

from qmpshell.errors import CommandTimeout, ConnectError
from qmpshell.secrets import MASK
from qmpshell.wire.address import parse_address
from qmpshell.wire.connection import Interrupted
from qmpshell.wire.logfile import MessageLog


@pytest.fixture(params=DRIVERS)
def connect(request: pytest.FixtureRequest) -> Iterator[Connect]:
    with driver(request.param) as connect:
        yield connect


def test_parse_address() -> None:
    assert parse_address("/run/qmp.sock") == "/run/qmp.sock"
    assert parse_address("qmp.sock") == "qmp.sock"
    assert parse_address("localhost:4444") == ("localhost", 4444)
    assert parse_address("[::1]:4444") == ("::1", 4444)
    assert parse_address("./odd:name") == "./odd:name"


# -- a real QEMU -------------------------------------------------------------
@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_greeting_and_replies_without_ids(qemu: QemuProcess, connect: Connect,
                                          transport: str) -> None:
    address = str(qemu.socket_path) if transport == "unix" else f"127.0.0.1:{qemu.tcp_port}"
    conn = connect(address, timeout=10)
    assert conn.name == address and conn.connected
    greeting = conn.greeting
    assert greeting is not None and greeting["QMP"]["version"]["qemu"]["major"] >= 2
    ok = conn.execute({"execute": "query-status"}).message
    bad = conn.execute({"execute": "device_del", "arguments": {"id": "nope"}}).message
    assert ok["return"]["status"] == "running"
    assert "id" not in ok
    assert bad == {"error": {"class": "DeviceNotFound", "desc": "Device 'nope' not found"}}


def test_events_are_ordered_against_replies(qemu: QemuProcess, connect: Connect) -> None:
    conn = connect(str(qemu.socket_path), timeout=10)
    order: list[str] = []
    for command in ("stop", "cont"):
        reply = conn.execute({"execute": command})
        order += [e["event"] for e in conn.take_events(before=reply.seq)]
        order.append(f"reply:{command}")
    assert order == ["STOP", "reply:stop", "RESUME", "reply:cont"]


def test_wait_events_wakes_for_an_event_caused_elsewhere(qemu: QemuProcess,
                                                         connect: Connect) -> None:
    conn = connect(str(qemu.socket_path), timeout=10)
    other = connect(f"127.0.0.1:{qemu.tcp_port}", timeout=10)
    assert not conn.wait_events(0.05)
    other.execute({"execute": "stop"})
    assert conn.wait_events(10)
    assert [e["event"] for e in conn.take_events()] == ["STOP"]


def test_lost_connection_when_qemu_quits(qemu: QemuProcess, connect: Connect) -> None:
    conn = connect(str(qemu.socket_path), timeout=10)
    conn.execute({"execute": "quit"})
    deadline = time.monotonic() + 10
    while conn.wait_events(1) or conn.lost_reason() is None:
        conn.take_events()
        assert time.monotonic() < deadline
    assert conn.lost_reason() == "the server closed the connection"
    assert not conn.connected
    with pytest.raises(ConnectError, match="^connection lost: the server closed"):
        conn.execute({"execute": "query-status"})


def test_interrupt_wakes_a_blocked_wait_and_execute(tmp_path: Path, connect: Connect) -> None:
    with FakeQMP(tmp_path, behaviours={"query-status": never}) as server:
        conn = connect(server.address, timeout=30)
        for block in (lambda: conn.wait_events(30),
                      lambda: conn.execute({"execute": "query-status"})):
            timer = threading.Timer(0.2, conn.interrupt)
            timer.start()
            started = time.monotonic()
            with pytest.raises(Interrupted):
                block()
            assert time.monotonic() - started < 10
            timer.join()
        assert conn.connected


# -- connecting fails cleanly --------------------------------------------------
def test_missing_socket(tmp_path: Path, connect: Connect) -> None:
    with pytest.raises(ConnectError, match="no such socket"):
        connect(str(tmp_path / "absent.sock"))


def test_refused(tmp_path: Path, connect: Connect) -> None:
    path = tmp_path / "dead.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()  # the file stays, nobody listens
    with pytest.raises(ConnectError, match="connection refused"):
        connect(str(path))


@pytest.mark.parametrize("greeting, message", [
    ("silent", "no greeting within 0.5 s"),
    ("close", "closed the connection before greeting"),
    ("garbage", "did not understand the server's greeting"),
    ({"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": ""},
              "capabilities": 5}},
     "did not understand the server's greeting (capabilities is not a list of names)"),
    ({"QMP": {"version": "7.2.0", "capabilities": []}},
     "did not understand the server's greeting (version is not an object)"),
])
def test_bad_greetings(tmp_path: Path, connect: Connect, greeting: Any, message: str) -> None:
    with FakeQMP(tmp_path, greeting=greeting) as server, \
            pytest.raises(ConnectError, match=message.replace("(", r"\(").replace(")", r"\)")):
        connect(server.address, timeout=0.5)


def test_skip_negotiation_without_greeting(tmp_path: Path, connect: Connect) -> None:
    with FakeQMP(tmp_path, greeting="none",
                 behaviours={"guest-ping": answer({})}) as server:
        conn = connect(server.address, negotiate=False, timeout=5)
        assert conn.greeting is None
        assert conn.execute({"execute": "guest-ping"}).message == {"return": {}}
    assert [r["execute"] for r in server.received] == ["guest-ping"]


# -- faults after connecting ---------------------------------------------------
def exchange(tmp_path: Path, connect: Connect, behaviour: Any, **kw: Any) -> dict[str, Any]:
    with FakeQMP(tmp_path, behaviours={"query-status": behaviour}) as server:
        conn = connect(server.address, **kw)
        return conn.execute({"execute": "query-status"}).message


def test_reply_one_byte_at_a_time(tmp_path: Path, connect: Connect) -> None:
    assert exchange(tmp_path, connect, bytewise, timeout=20) == {
        "return": {"status": "running", "running": True}}


def test_sixteen_mib_reply_arrives_whole(tmp_path: Path, connect: Connect) -> None:
    size = 16 * 1024 * 1024
    reply = exchange(tmp_path, connect, huge(size), timeout=20)
    assert len(reply["return"]) == size


def test_garbage_reply(tmp_path: Path, connect: Connect) -> None:
    with pytest.raises(ConnectError, match="connection lost: the server sent malformed JSON"):
        exchange(tmp_path, connect, garbage, timeout=5)


def test_deeply_nested_reply(tmp_path: Path, connect: Connect) -> None:
    (tmp_path / "deeper").mkdir()
    reply = exchange(tmp_path, connect, deep(200), timeout=5)
    assert json.dumps(reply["return"]) == "[" * 200 + "]" * 200
    with pytest.raises(ConnectError, match="connection lost: the server sent JSON nested "
                                           "deeper than 256 levels"):
        exchange(tmp_path / "deeper", connect, deep(100000), timeout=5)


def test_closed_mid_reply(tmp_path: Path, connect: Connect) -> None:
    with pytest.raises(ConnectError, match="in the middle of a message"):
        exchange(tmp_path, connect, close_mid_reply, timeout=5)


def test_no_reply_times_out(tmp_path: Path, connect: Connect) -> None:
    with pytest.raises(CommandTimeout, match="no reply to query-status within 0.3 s"):
        exchange(tmp_path, connect, never, timeout=0.3)


def test_a_late_reply_is_dropped_and_the_next_request_gets_its_own(
        tmp_path: Path, connect: Connect) -> None:
    """Requests to QEMU carry no id: replies are matched in turn, and the turn
    of a request given up on is kept until its reply comes."""
    with FakeQMP(tmp_path, behaviours={"query-status": late(0.5, {"status": "late"}),
                                       "query-name": answer({"name": "vm"})}) as server:
        conn = connect(server.address, timeout=5)
        with pytest.raises(CommandTimeout, match="no reply to query-status within 0.1 s"):
            conn.execute({"execute": "query-status"}, timeout=0.1)
        assert conn.execute({"execute": "query-name"}).message == {"return": {"name": "vm"}}
        assert conn.connected
    assert [r for r in server.received if "id" in r] == []


def test_a_reply_with_a_stranger_id_is_reported_once_and_ignored(
        tmp_path: Path, connect: Connect) -> None:
    warnings: list[str] = []
    with FakeQMP(tmp_path, greeting=OLD_GREETING,
                 behaviours={"query-status": wrong_id}) as server:
        conn = connect(server.address, timeout=5, warn=warnings.append)
        with pytest.raises(CommandTimeout, match="no reply to query-status within 0.3 s"):
            conn.execute({"execute": "query-status"}, timeout=0.3)
        assert conn.connected
        assert conn.execute({"execute": "query-name"}).message == {"return": {}}
    assert warnings == ['ignored a reply that answers no request (id "2")']


# -- the message log -----------------------------------------------------------
def test_log_masks_secrets_but_server_gets_them(tmp_path: Path, connect: Connect) -> None:
    log_path = tmp_path / "qmp.log"
    request = {"execute": "set_password",
               "arguments": {"protocol": "vnc", "password": "hunter2"}}
    with FakeQMP(tmp_path) as server, open(log_path, "a") as stream:
        conn = connect(server.address, timeout=5, log=MessageLog(stream))
        conn.execute(request)
        conn.close()
    assert server.received[-1]["arguments"]["password"] == "hunter2"
    entries = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [e["direction"] for e in entries] == ["received", "sent", "received", "sent",
                                                 "received"]
    sent = entries[3]["message"]
    assert sent["execute"] == "set_password"
    assert sent["arguments"]["password"] == MASK
    assert "hunter2" not in log_path.read_text()
    assert all(e["time"].endswith("+00:00") for e in entries)
