"""A file's run of queries against a real QEMU: the next query goes out
before the previous reply is read (the message log shows it), and what the
script prints, stops at and exits with is what running the lines one by one
gives."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import messages, qmpshell, sock
from helpers.qemu_process import QemuProcess


def sent_and_received(log: Path) -> list[str]:
    """'sent NAME' / 'received' for each message after negotiation."""
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    order = []
    for entry in entries:
        message = entry["message"]
        if entry["direction"] == "sent":
            order.append(f"sent {message['execute']}")
        elif "return" in message or "error" in message:
            order.append("received")
    return order[order.index("sent query-status"):]


def test_queries_of_a_file_are_sent_ahead_and_print_the_same(
        qemu: QemuProcess, tmp_path: Path) -> None:
    session = tmp_path / "session.qmp"
    session.write_text("query-status\nquery-name\nquery-status\n")
    log = tmp_path / "qmp.log"
    r = qmpshell(sock(qemu), "-f", str(session), "--compact", "-l", str(log))
    assert r.returncode == 0, r.stderr
    status = {"return": {"status": "running", "singlestep": False, "running": True}}
    assert messages(r.stdout) == [status, {"return": {}}, status]
    assert sent_and_received(log)[:2] == ["sent query-status", "sent query-name"]
    assert sent_and_received(log).count("sent query-status") == 2
    one_by_one = qmpshell(sock(qemu), "--compact", stdin=session.read_text())
    assert one_by_one.stdout == r.stdout


def test_a_session_piped_in_is_sent_ahead_as_a_file_is(
        qemu: QemuProcess, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    r = qmpshell(sock(qemu), "--compact", "-l", str(log),
                 stdin="query-status\nquery-name\nquery-status\n")
    assert r.returncode == 0, r.stderr
    assert [list(m["return"]) for m in messages(r.stdout)] == [
        ["status", "singlestep", "running"], [], ["status", "singlestep", "running"]]
    assert sent_and_received(log)[:3] == ["sent query-status", "sent query-name",
                                          "sent query-status"]


def test_minus_e_stops_at_a_failing_query_and_drops_the_one_sent_ahead(
        qemu: QemuProcess, tmp_path: Path) -> None:
    session = tmp_path / "session.qmp"
    session.write_text("query-balloon\nquery-status\n")
    r = qmpshell(sock(qemu), "-f", str(session), "--compact", "-e")
    assert r.returncode == 1
    assert messages(r.stdout) == [{"error": {"class": "DeviceNotActive",
                                             "desc": "No balloon device has been activated"}}]
    assert r.stderr.strip() == (f"{session}:1: error: DeviceNotActive: "
                                "No balloon device has been activated")
    carried_on = qmpshell(sock(qemu), "-f", str(session), "--compact")
    assert carried_on.returncode == 1
    assert [m.get("error", {}).get("class", "reply") for m in messages(carried_on.stdout)] == [
        "DeviceNotActive", "reply"]
