"""A run of queries from a file: the blocking driver sends the next query
before the previous reply is read, and nothing a script shows or does
changes.  The driver over a socket pair whose far end the test reads and
writes itself (replies written before they are asked for, ids being 1, 2...);
the runner over a connection that notes what it is told."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from qmpshell.errors import QmpShellError
from qmpshell.runner.pipeline import LOOK_AHEAD, Runner
from qmpshell.schema.model import Command, Schema, TypeInfo
from qmpshell.settings import Settings
from qmpshell.shorthand.parser import ShorthandParser
from qmpshell.wire.blocking import BlockingConnection
from qmpshell.wire.connection import Reply

STATUS = {"execute": "query-status"}
NAME = {"execute": "query-name"}
VERSION = {"execute": "query-version"}


@contextmanager
def driver() -> Iterator[tuple[BlockingConnection, socket.socket]]:
    near, far = socket.socketpair()
    conn = BlockingConnection("vm", timeout=5.0, negotiate=False)
    conn.attach(near)
    far.settimeout(5.0)
    try:
        yield conn, far
    finally:
        conn.close()
        far.close()


def answer(far: socket.socket, *messages: dict[str, Any]) -> None:
    far.sendall(b"".join(json.dumps(m).encode() + b"\r\n" for m in messages))


def sent(far: socket.socket) -> list[dict[str, Any]]:
    """The requests that reached the server so far."""
    far.setblocking(False)
    data = b""
    try:
        while chunk := far.recv(65536):
            data += chunk
    except BlockingIOError:
        pass
    far.settimeout(5.0)
    return [json.loads(line) for line in data.splitlines()]


def test_the_announced_request_goes_out_with_the_one_before_and_is_not_sent_twice() -> None:
    with driver() as (conn, far):
        answer(far, {"return": {"status": "running"}, "id": 1}, {"return": {"name": "a"}, "id": 2})
        conn.send_next(NAME)
        assert conn.execute(STATUS).message == {"return": {"status": "running"}}
        assert sent(far) == [{**STATUS, "id": 1}, {**NAME, "id": 2}]
        assert conn.execute(NAME).message == {"return": {"name": "a"}}
        assert sent(far) == []


def test_requests_announced_together_go_out_in_order_after_the_running_one() -> None:
    with driver() as (conn, far):
        answer(far, {"return": 1, "id": 1}, {"return": 2, "id": 2}, {"return": 3, "id": 3})
        conn.send_next(NAME)
        conn.send_next(VERSION)
        assert conn.execute(STATUS).message == {"return": 1}
        assert sent(far) == [{**STATUS, "id": 1}, {**NAME, "id": 2}, {**VERSION, "id": 3}]
        answer(far, {"return": 4, "id": 4})
        conn.send_next(STATUS)
        assert conn.execute(NAME).message == {"return": 2}
        assert sent(far) == [{**STATUS, "id": 4}]
        assert conn.execute(VERSION).message == {"return": 3}
        assert conn.execute(STATUS).message == {"return": 4}
        assert sent(far) == []


def test_requests_sent_ahead_but_not_executed_are_dropped_unseen() -> None:
    with driver() as (conn, far):
        answer(far, {"return": 1, "id": 1}, {"return": 2, "id": 2}, {"return": 3, "id": 3})
        conn.send_next(NAME)
        conn.send_next(VERSION)
        assert conn.execute(STATUS).message == {"return": 1}
        answer(far, {"return": 4, "id": 4})
        assert conn.execute(STATUS).message == {"return": 4}  # not query-name's 2
        assert sent(far) == [{**STATUS, "id": 1}, {**NAME, "id": 2}, {**VERSION, "id": 3},
                             {**STATUS, "id": 4}]


def test_a_reply_sent_ahead_that_comes_after_it_was_dropped_is_ignored_quietly() -> None:
    warnings: list[str] = []
    near, far = socket.socketpair()
    conn = BlockingConnection("vm", timeout=5.0, negotiate=False, warn=warnings.append)
    conn.attach(near)
    try:
        answer(far, {"return": 1, "id": 1})
        conn.send_next(NAME)
        assert conn.execute(STATUS).message == {"return": 1}
        answer(far, {"return": 2, "id": 2}, {"return": 3, "id": 3})
        assert conn.execute(VERSION).message == {"return": 3}
        assert warnings == []
    finally:
        conn.close()
        far.close()


def test_events_after_a_reply_read_early_wait_for_it() -> None:
    with driver() as (conn, far):
        answer(far, {"return": 1, "id": 1}, {"event": "FIRST"}, {"return": 2, "id": 2},
               {"event": "SECOND"})
        conn.send_next(NAME)
        first = conn.execute(STATUS)
        assert conn.take_events(before=first.seq) == []
        conn.poll_events()
        assert [e["event"] for e in conn.take_events()] == ["FIRST"]
        second = conn.execute(NAME)
        assert second.message == {"return": 2}
        assert conn.take_events(before=second.seq) == []
        assert [e["event"] for e in conn.take_events()] == ["SECOND"]


def test_events_between_replies_read_early_come_out_between_them() -> None:
    with driver() as (conn, far):
        answer(far, {"return": 1, "id": 1}, {"event": "A"}, {"return": 2, "id": 2},
               {"event": "B"}, {"return": 3, "id": 3}, {"event": "C"})
        conn.send_next(NAME)
        conn.send_next(VERSION)
        conn.execute(STATUS)
        conn.poll_events()
        shown = [e["event"] for e in conn.take_events()]
        for request in (NAME, VERSION):
            reply = conn.execute(request)
            shown += [e["event"] for e in conn.take_events(before=reply.seq)]
            shown.append(f"reply {reply.message['return']}")
            shown += [e["event"] for e in conn.take_events()]
        assert shown == ["A", "reply 2", "B", "reply 3", "C"]


def test_nothing_is_sent_ahead_unless_announced() -> None:
    with driver() as (conn, far):
        answer(far, {"return": 1, "id": 1})
        assert conn.execute(STATUS).message == {"return": 1}
        assert sent(far) == [{**STATUS, "id": 1}]


# -- the runner: what it announces ----------------------------------------------
class Noting:
    """A connection that answers at once and notes announcements and requests."""

    name = "vm"
    greeting: dict[str, Any] | None = None
    connected = True

    def __init__(self, failing: str = "") -> None:
        self.calls: list[tuple[str, str]] = []
        self.failing = failing
        self.seq = 0

    def send_next(self, request: dict[str, Any]) -> None:
        self.calls.append(("next", request["execute"]))

    def execute(self, request: dict[str, Any], timeout: float | None = None) -> Reply:
        self.calls.append(("execute", request["execute"]))
        self.seq += 1
        if request["execute"] == self.failing:
            return Reply({"error": {"class": "GenericError", "desc": "no"}}, self.seq)
        return Reply({"return": {}}, self.seq)

    def take_events(self, before: int | None = None) -> list[dict[str, Any]]:
        return []

    def wait_events(self, timeout: float | None = None) -> bool:
        return False

    def lost_reason(self) -> str | None:
        return None

    def interrupt(self) -> None:
        pass

    def close(self) -> None:
        pass


def schema() -> Schema:
    """Queries (one deprecated, one taking a password), stop, transaction."""
    s = Schema(source="test", complete=True)
    s.types["none"] = TypeInfo("none", "object")
    s.types["pw"] = TypeInfo("pw", "object", open=True)
    for name in ("query-status", "query-name", "query-version", "stop", "transaction",
                 "query-balloon"):
        s.commands[name] = Command(name=name, args_type="none")
    s.commands["query-old"] = Command(name="query-old", args_type="none",
                                      features=("deprecated",))
    s.commands["query-secret"] = Command(name="query-secret", args_type="pw")
    return s


def run(lines: Any, conn: Noting, **settings: Any) -> tuple[list[str], list[str]]:
    out: list[str] = []
    errors: list[str] = []

    def report(error: QmpShellError, where: str | None) -> None:
        errors.append(f"{where}: {error}")

    runner = Runner(Settings(**settings), parser=ShorthandParser(schema()), schema=schema(),
                    connection=conn, out=out.append, report=report)
    runner.run_lines(lines, "f")
    return out, errors


def test_a_query_announces_the_next_queries_of_the_file_once() -> None:
    conn = Noting()
    out, errors = run(["query-status", "query-name", "query-version"], conn)
    assert conn.calls == [("next", "query-name"), ("next", "query-version"),
                          ("execute", "query-status"), ("execute", "query-name"),
                          ("execute", "query-version")]
    assert out == ['{"return": {}}'] * 3 and errors == []


def test_at_most_look_ahead_queries_are_announced_beyond_the_one_running() -> None:
    conn = Noting()
    lines = [f"query-{'status' if i % 2 else 'name'}" for i in range(LOOK_AHEAD + 3)]
    run(lines, conn)
    calls = [call for call, _ in conn.calls]
    assert calls[:LOOK_AHEAD + 1] == ["next"] * LOOK_AHEAD + ["execute"]
    assert calls[LOOK_AHEAD + 1:] == ["next", "execute"] * 2 + ["execute"] * LOOK_AHEAD
    assert [name for call, name in conn.calls if call == "execute"] == lines
    assert [name for call, name in conn.calls if call == "next"] == lines[1:]


def test_the_queries_announced_stop_at_a_line_that_is_not_one() -> None:
    conn = Noting()
    run(["query-status", "query-name", "stop", "query-version", "query-name"], conn)
    assert conn.calls == [("next", "query-name"), ("execute", "query-status"),
                          ("execute", "query-name"), ("execute", "stop"),
                          ("next", "query-name"), ("execute", "query-version"),
                          ("execute", "query-name")]


@pytest.mark.parametrize("following", [
    "stop",                      # it changes the VM
    ".sleep 0",                  # a dot-command
    "# query-name",              # a comment
    "query-name ?",              # help
    "@vm query-name",            # for several VMs
    "query-old",                 # a warning is printed before it is sent
    "query-secret password=********",  # its secret is asked for before
    "transaction(",              # a transaction's first line
    "query-nonexistent",         # does not parse
    "",                          # blank
])
def test_only_a_plain_query_is_announced(following: str) -> None:
    conn = Noting()
    run(["query-status", following], conn)
    assert [call for call, _ in conn.calls if call == "next"] == []
    assert conn.calls[:1] == [("execute", "query-status")]


def test_a_query_after_a_command_with_effects_is_not_announced() -> None:
    conn = Noting()
    run(["stop", "query-status"], conn)
    assert conn.calls == [("execute", "stop"), ("execute", "query-status")]


def test_nothing_is_announced_when_requests_are_shown() -> None:
    conn = Noting()
    run(["query-status", "query-name"], conn, verbose=True)
    assert [c for c, _ in conn.calls] == ["execute", "execute"]


class Piped:
    """Lines given one by one, those already read known ahead (stdin)."""

    def __init__(self, lines: list[str], read: int) -> None:
        self.lines = lines
        self.given = 0
        self.read = read

    def __iter__(self) -> Iterator[str]:
        while self.given < len(self.lines):
            self.given += 1
            yield self.lines[self.given - 1]

    def following(self, count: int) -> list[str]:
        return self.lines[self.given:min(self.given + count, self.read)]


def test_lines_piped_in_are_looked_ahead_as_far_as_they_were_read() -> None:
    conn = Noting()
    run(Piped(["query-status", "query-name", "query-version", "query-name"], read=3), conn)
    assert conn.calls == [("next", "query-name"), ("next", "query-version"),
                          ("execute", "query-status"), ("execute", "query-name"),
                          ("execute", "query-version"), ("execute", "query-name")]


def test_lines_read_as_they_come_are_not_looked_ahead() -> None:
    conn = Noting()
    run(iter(["query-status", "query-name"]), conn)
    assert conn.calls == [("execute", "query-status"), ("execute", "query-name")]


def test_minus_e_stops_before_the_query_sent_ahead() -> None:
    conn = Noting(failing="query-balloon")
    out, errors = run(["query-balloon", "query-status"], conn, exit_on_error=True)
    assert conn.calls == [("next", "query-status"), ("execute", "query-balloon")]
    assert out == ['{"error": {"class": "GenericError", "desc": "no"}}']
    assert errors == ["f:1: GenericError: no"]
