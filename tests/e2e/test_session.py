"""The runner as the prompt uses it: injected sinks, transaction state, events
printed while idle, errors reported with their place."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from helpers.qemu_process import QemuProcess

from qmpshell.errors import ConnectError, ParseError, QmpShellError
from qmpshell.runner.pipeline import Runner
from qmpshell.schema.table import load_bundled_schema
from qmpshell.settings import Settings
from qmpshell.shorthand.dotcommands import WaitSpec, parse_dot, parse_wait
from qmpshell.shorthand.parser import ShorthandParser
from qmpshell.wire.blocking import BlockingConnection
from qmpshell.wire.connection import Interrupted

SCHEMA = load_bundled_schema()


class Recorder:
    """An output sink and a report function that keep what they get."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.errors: list[tuple[str, str | None]] = []

    def write(self, text: str) -> None:
        self.out.append(text)

    def report(self, error: QmpShellError, where: str | None) -> None:
        self.errors.append((str(error), where))


def make_runner(conn: BlockingConnection | None, rec: Recorder, **settings: Any) -> Runner:
    return Runner(Settings(**settings), parser=ShorthandParser(SCHEMA, allow_unknown=True),
                  schema=SCHEMA, connection=conn, out=rec.write, report=rec.report)


def connect(address: str) -> BlockingConnection:
    conn = BlockingConnection(address, timeout=10)
    conn.connect()
    return conn


def test_transaction_state_across_lines(qemu: QemuProcess) -> None:
    rec = Recorder()
    conn = connect(str(qemu.socket_path))
    runner = make_runner(conn, rec)
    states = []
    try:
        for line in ("transaction(", "blockdev-snapshot-sync device=nope snapshot-file=/x",
                     ")"):
            runner.run_line(line, None)
            states.append(runner.in_transaction)
    finally:
        conn.close()
    assert states == [True, True, False]
    (reply,) = rec.out
    assert json.loads(reply)["error"]["class"] in ("GenericError", "DeviceNotFound")
    assert rec.errors and rec.errors[0][1] is None


def test_events_printed_while_idle(qemu: QemuProcess) -> None:
    """An event caused elsewhere (another monitor) shows without a line running."""
    rec = Recorder()
    conn = connect(str(qemu.socket_path))
    other = connect(f"127.0.0.1:{qemu.tcp_port}")
    runner = make_runner(conn, rec)
    try:
        other.execute({"execute": "stop"})
        assert conn.wait_events(10), "STOP never came"
        runner.drain_events()
    finally:
        other.close()
        conn.close()
    assert json.loads(rec.out[0])["event"] == "STOP"


def test_ctrl_c_ends_a_wait(qemu: QemuProcess) -> None:
    """The prompt's Ctrl-C: interrupt() from another thread ends a .wait."""
    rec = Recorder()
    conn = connect(str(qemu.socket_path))
    runner = make_runner(conn, rec)
    timer = threading.Timer(0.2, conn.interrupt)
    try:
        timer.start()
        started = time.monotonic()
        with pytest.raises(Interrupted):
            runner.run_line(".wait STOP timeout=30", "w:1")
        assert time.monotonic() - started < 10
    finally:
        timer.join()
        conn.close()


def test_lost_connection_raises_on_next_line(qemu: QemuProcess) -> None:
    rec = Recorder()
    conn = connect(str(qemu.socket_path))
    runner = make_runner(conn, rec)
    try:
        runner.run_line("quit", "q:1")
        with pytest.raises(ConnectError) as info:
            runner.run_line(".wait SHUTDOWN_NEVER timeout=10", "q:2")
        assert runner.where == "q:2"
    finally:
        conn.close()
    assert str(info.value).startswith("connection lost: the server closed the connection")


def test_dry_run_prints_requests_compact_even_when_pretty() -> None:
    rec = Recorder()
    runner = make_runner(None, rec, pretty=True)
    assert runner.run_line("block_resize device=d size=1G", "x:1")
    assert rec.out == [json.dumps({"execute": "block_resize",
                                   "arguments": {"device": "d", "size": 1073741824}})]


def test_bad_lines_are_reported_with_their_place() -> None:
    rec = Recorder()
    runner = make_runner(None, rec)
    assert not runner.run_line(".wiat STOP", "f:3")
    assert not runner.run_line(".sleep soon", "f:4")
    assert rec.errors == [("column 1: unknown dot-command .wiat (did you mean .wait?)", "f:3"),
                          (".sleep: expected a number of seconds, got 'soon'", "f:4")]
    assert runner.failed


def test_quit_and_echo() -> None:
    rec = Recorder()
    runner = make_runner(None, rec)
    runner.run_lines([".echo one", ".quit", ".echo two"], "s")
    assert rec.out == ["one"]
    assert runner.stopped and not runner.failed


def test_unterminated_transaction_fails_at_the_end() -> None:
    rec = Recorder()
    runner = make_runner(None, rec)
    runner.run_lines(["transaction(", "stop"], "s")
    assert rec.out == []
    assert rec.errors[-1][1] == "s:2"
    assert not runner.in_transaction


# -- dot-command parsing (pure) ---------------------------------------------------
def test_wait_spec_matches_name_and_data() -> None:
    spec = parse_wait("BLOCK_JOB_COMPLETED timeout=2.5 device=j0 len=5 opts.on=true")
    assert spec == WaitSpec("BLOCK_JOB_COMPLETED", 2.5,
                            {"device": "j0", "len": "5", "opts.on": "true"})
    event = {"event": "BLOCK_JOB_COMPLETED",
             "data": {"device": "j0", "len": 5, "opts": {"on": True}}}
    assert spec.matches(event)
    assert not spec.matches({**event, "event": "BLOCK_JOB_READY"})
    assert not spec.matches({**event, "data": {"device": "j1", "len": 5, "opts": {"on": True}}})
    assert not parse_wait("X missing=1").matches({"event": "X"})
    assert parse_wait("stop").matches({"event": "STOP"})


@pytest.mark.parametrize("text, message", [
    ("", ".wait needs an event name"),
    ("timeout=1", ".wait needs an event name"),
    ("STOP timeout=-1", "expected a number of seconds"),
    ("STOP junk", "expected key=value"),
    ("STOP a=1 a=2", "duplicate key"),
    ("STOP 'open", "no closing quote"),
])
def test_wait_spec_errors(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_wait(text)


def test_parse_dot() -> None:
    assert parse_dot(".echo  hello world ").rest == "hello world"
    assert parse_dot(".quit").name == "quit"
    with pytest.raises(ParseError, match="known: .help"):
        parse_dot(".x")
