"""The libvirt connection kind against a real private libvirt daemon and domain."""

from __future__ import annotations

import time

import pytest
from helpers.libvirt_daemon import LibvirtDaemon

from qmpshell.errors import ConnectError
from qmpshell.wire.connection import QmpConnection
from qmpshell.wire.libvirt import LibvirtConnection, open_domains


def _open(daemon: LibvirtDaemon, *patterns: str) -> list[LibvirtConnection]:
    return open_domains(daemon.uri, list(patterns), timeout=30)


def _wait_for_event(conn: LibvirtConnection, name: str, limit: float = 10) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for event in conn.take_events():
            if event["event"] == name:
                return event
        conn.wait_events(max(0.0, deadline - time.monotonic()))
    raise AssertionError(f"no {name} event within {limit} s")


def test_commands_replies_and_greeting(libvirt_daemon: LibvirtDaemon, libvirt_domain: str,
                                       capfd: pytest.CaptureFixture[str]) -> None:
    [conn] = _open(libvirt_daemon, libvirt_domain)
    iface: QmpConnection = conn
    try:
        assert iface.name == libvirt_domain and iface.connected
        assert conn.greeting is not None and conn.greeting["QMP"]["version"]["qemu"]["major"] >= 7
        reply = conn.execute({"execute": "query-status", "id": "mine"}).message
        assert reply == {"return": {"status": "running", "singlestep": False, "running": True}}
        error = conn.execute({"execute": "no-such-command"}).message
        assert error["error"]["class"] == "CommandNotFound" and "id" not in error
        hmp = conn.execute({"execute": "human-monitor-command",
                            "arguments": {"command-line": "info status"}}).message
        assert hmp == {"return": "VM status: running\r\n"}
        oob = conn.execute({"exec-oob": "query-status"}).message
        assert "out-of-band" in oob["error"]["desc"]
    finally:
        conn.close()
    assert capfd.readouterr().err == ""  # libvirt printed nothing of its own


def test_events_are_dispatched_by_domain(libvirt_daemon: LibvirtDaemon) -> None:
    libvirt_daemon.create_domain("qs-a")
    libvirt_daemon.create_domain("qs-b")
    a, b = _open(libvirt_daemon, "qs-*")
    try:
        assert (a.name, b.name) == ("qs-a", "qs-b")
        libvirt_daemon.virsh("suspend", "qs-b")
        stop = _wait_for_event(b, "STOP")
        assert set(stop["timestamp"]) == {"seconds", "microseconds"}
        libvirt_daemon.virsh("resume", "qs-b")
        _wait_for_event(b, "RESUME")
        reset = a.execute({"execute": "system_reset"})
        assert reset.message == {"return": {}}
        assert _wait_for_event(a, "RESET")["data"]["reason"] == "host-qmp-system-reset"
        assert not [e for e in a.take_events() if e["event"] in ("STOP", "RESUME")]
    finally:
        a.close()
        b.close()


def test_block_resize_by_node_name(libvirt_daemon: LibvirtDaemon, libvirt_domain: str) -> None:
    [conn] = _open(libvirt_daemon, libvirt_domain)
    try:
        reply = conn.execute({"execute": "block_resize", "arguments": {
            "node-name": "libvirt-1-format", "size": 32 * 2**20}}).message
        assert reply == {"return": {}}
        nodes = conn.execute({"execute": "query-named-block-nodes",
                              "arguments": {"flat": True}}).message["return"]
        sizes = {n["node-name"]: n["image"]["virtual-size"] for n in nodes}
        assert sizes["libvirt-1-format"] == 32 * 2**20
    finally:
        conn.close()


def test_unknown_domain_and_glob(libvirt_daemon: LibvirtDaemon) -> None:
    with pytest.raises(ConnectError, match="no domain named 'nope'"):
        _open(libvirt_daemon, "nope")
    with pytest.raises(ConnectError, match="no running domain matches 'web-\\*'"):
        _open(libvirt_daemon, "web-*")


def test_unreachable_daemon(libvirt_daemon: LibvirtDaemon,
                            capfd: pytest.CaptureFixture[str]) -> None:
    uri = libvirt_daemon.uri.replace("libvirt-sock", "no-such-sock")
    with pytest.raises(ConnectError) as caught:
        open_domains(uri, ["x"])
    assert "\n" not in str(caught.value) and "no-such-sock" in str(caught.value)
    assert capfd.readouterr().err == ""


def test_daemon_stopping_loses_the_connection(libvirt_daemon: LibvirtDaemon,
                                              libvirt_domain: str) -> None:
    [conn] = _open(libvirt_daemon, libvirt_domain)
    try:
        libvirt_daemon.stop_daemon()
        assert conn.wait_events(10) is False
        assert conn.lost_reason() == "the libvirt daemon closed the connection"
        with pytest.raises(ConnectError, match="connection lost: the libvirt daemon closed"):
            conn.execute({"execute": "query-status"})
    finally:
        conn.close()


def test_watch_wakes_the_prompt_loop(libvirt_daemon: LibvirtDaemon, libvirt_domain: str) -> None:
    import asyncio

    [conn] = _open(libvirt_daemon, libvirt_domain)

    async def watched() -> dict:
        woke = asyncio.Event()
        conn.watch(woke.set)
        await asyncio.get_running_loop().run_in_executor(
            None, libvirt_daemon.virsh, "suspend", libvirt_domain)
        await asyncio.wait_for(woke.wait(), 10)
        conn.watch(None)
        return _wait_for_event(conn, "STOP")

    try:
        assert asyncio.run(watched())["event"] == "STOP"
    finally:
        conn.close()
