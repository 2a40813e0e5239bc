"""A line for several VMs over sockets: every request is sent before any
reply is read, without a thread per VM: the blocking driver (scripts) waits
for all the sockets at once, the asyncio driver (the prompt) hands every
request to its loop in one call.  The servers are the far ends of socket
pairs, answering from a thread."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import pytest

from qmpshell.errors import CommandTimeout, ConnectError
from qmpshell.runner.fanout import Capture, send_everywhere
from qmpshell.runner.fleet import Member
from qmpshell.runner.pipeline import Runner
from qmpshell.runner.render import Renderer
from qmpshell.runner.replaysecrets import SecretSource
from qmpshell.schema.model import Schema
from qmpshell.settings import Settings
from qmpshell.shorthand.parser import ShorthandParser
from qmpshell.wire.aio import AsyncConnection
from qmpshell.wire.blocking import BlockingConnection
from qmpshell.wire.connection import Interrupted, QmpConnection, Reply
from qmpshell.wire.protocol import QmpProtocol, request_head

QUERY = {"execute": "query-status"}

DRIVERS = ("blocking", "aio")

Serve = Callable[[list[socket.socket], list[dict[str, Any]]], None]
"""What the servers do once every request has arrived: the far ends and the
requests, in connection order."""

Conn = Any
"""A BlockingConnection or an AsyncConnection (each has execute_together)."""


def read_request(sock: socket.socket, deadline: float) -> dict[str, Any]:
    data = b""
    while not data.endswith(b"\n"):
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(4096)
        assert chunk, "the client hung up"
        data += chunk
    return cast("dict[str, Any]", json.loads(data))


def reply(sock: socket.socket, request: dict[str, Any], value: Any) -> None:
    sock.sendall(json.dumps({"return": value, "id": request["id"]}).encode() + b"\n")


def together(conns: Sequence[Conn], requests: Sequence[dict[str, Any]],
             **options: Any) -> list[Reply | ConnectError]:
    """The fan-out of these connections' driver, as @all calls it."""
    result: list[Reply | ConnectError] = type(conns[0]).execute_together(
        conns, requests, **options)
    return result


@contextmanager
def connections(count: int, driver: str) -> Iterator[tuple[list[Conn], list[socket.socket]]]:
    """``count`` connections of ``driver`` (-N: no greeting) and the far
    ends of their sockets; all closed at the end."""
    pairs = [socket.socketpair() for _ in range(count)]
    conns: list[Conn] = []
    loop: asyncio.AbstractEventLoop | None = None
    thread: threading.Thread | None = None
    if driver == "aio":
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
    try:
        for number, (near, _) in enumerate(pairs, 1):
            if loop is None:
                conn: Conn = BlockingConnection(f"vm{number}", timeout=5.0, negotiate=False)
                conn.attach(near)
            else:
                conn = AsyncConnection(f"vm{number}", timeout=5.0, negotiate=False)
                asyncio.run_coroutine_threadsafe(conn.attach(near), loop).result(5)
            conns.append(conn)
        yield conns, [f for _, f in pairs]
    finally:
        for conn in conns:
            conn.close()
        for _, far in pairs:
            far.close()
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()


@contextmanager
def servers(count: int, serve: Serve, driver: str = "blocking") -> Iterator[list[Conn]]:
    """``count`` connections whose servers answer through ``serve`` once all
    requests are in (so a client that waited for a reply before sending the
    next request would get nothing)."""
    with connections(count, driver) as (conns, far):
        failures: list[BaseException] = []

        def run() -> None:
            try:
                deadline = time.monotonic() + 5.0
                serve(far, [read_request(f, deadline) for f in far])
            except BaseException as error:  # reported by the test's thread
                failures.append(error)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            yield conns
        finally:
            thread.join(5.0)
    assert not failures, failures


def in_reverse(far: list[socket.socket], requests: list[dict[str, Any]]) -> None:
    for number in reversed(range(len(far))):
        reply(far[number], requests[number], {"vm": number + 1})


@pytest.mark.parametrize("driver", DRIVERS)
def test_every_request_goes_out_before_any_reply_and_replies_find_their_vm(
        driver: str) -> None:
    with servers(3, in_reverse, driver) as conns:
        replies = together(conns, [QUERY] * 3)
    assert [r.message for r in replies if isinstance(r, Reply)] == [
        {"return": {"vm": 1}}, {"return": {"vm": 2}}, {"return": {"vm": 3}}]


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_vm_that_hangs_up_is_its_own_error_and_the_others_answer(driver: str) -> None:
    def second_hangs_up(far: list[socket.socket], requests: list[dict[str, Any]]) -> None:
        far[1].close()
        for number in (0, 2):
            reply(far[number], requests[number], {"vm": number + 1})

    with servers(3, second_hangs_up, driver) as conns:
        replies = together(conns, [QUERY] * 3)
    assert isinstance(replies[0], Reply) and isinstance(replies[2], Reply)
    assert isinstance(replies[1], ConnectError)
    assert str(replies[1]) == "connection lost: the server closed the connection"


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_silent_vm_times_out_alone_and_its_late_reply_is_dropped(driver: str) -> None:
    late: list[tuple[socket.socket, dict[str, Any]]] = []

    def second_is_silent(far: list[socket.socket], requests: list[dict[str, Any]]) -> None:
        reply(far[0], requests[0], {"vm": 1})
        late.append((far[1], requests[1]))

    with servers(2, second_is_silent, driver) as conns:
        start = time.monotonic()
        replies = together(conns, [QUERY] * 2, timeout=0.3)
        assert 0.3 <= time.monotonic() - start < 3.0
        assert isinstance(replies[0], Reply)
        assert isinstance(replies[1], CommandTimeout)
        assert str(replies[1]) == "no reply to query-status within 0.3 s"
        far, request = late[0]
        reply(far, request, {"late": True})  # dropped: nobody waits for it
        answering = threading.Thread(target=lambda: reply(
            far, read_request(far, time.monotonic() + 5.0), {"vm": 2}))
        answering.start()
        again = together([conns[1]], [QUERY])
        answering.join(5.0)
        assert isinstance(again[0], Reply) and again[0].message == {"return": {"vm": 2}}


@pytest.mark.parametrize("driver", DRIVERS)
def test_events_before_a_reply_stay_with_their_vm(driver: str) -> None:
    def event_then_reply(far: list[socket.socket], requests: list[dict[str, Any]]) -> None:
        far[1].sendall(b'{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 0}}\n')
        in_reverse(far, requests)

    with servers(2, event_then_reply, driver) as conns:
        replies = together(conns, [QUERY] * 2)
        assert conns[0].take_events() == []
        second = replies[1]
        assert isinstance(second, Reply)
        assert [e["event"] for e in conns[1].take_events(before=second.seq)] == ["STOP"]


@pytest.mark.parametrize(("driver", "which"), [
    ("blocking", [0]), ("blocking", [1]), ("aio", [0, 1])])  # the prompt interrupts all
def test_interrupt_ends_the_wait_for_all_and_leaves_nothing_behind(
        driver: str, which: list[int]) -> None:
    with servers(2, lambda far, requests: None, driver) as conns:
        timer = threading.Timer(0.1, lambda: [conns[i].interrupt() for i in which])
        timer.start()
        with pytest.raises(Interrupted):
            together(conns, [QUERY] * 2)
        timer.join()
        replies = together(conns, [QUERY] * 2, timeout=0.2)
        assert all(isinstance(r, CommandTimeout) for r in replies)


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_connection_already_lost_sends_nothing(driver: str) -> None:
    def first_only(far: list[socket.socket], requests: list[dict[str, Any]]) -> None:
        reply(far[0], requests[0], {"vm": 1})

    with connections(1, driver) as (gone, _), servers(1, first_only, driver) as conns:
        gone[0].close()
        deadline = time.monotonic() + 5.0
        while gone[0].connected and time.monotonic() < deadline:
            time.sleep(0.01)  # the asyncio driver closes on its loop
        replies = together([conns[0], gone[0]], [QUERY] * 2)
    assert isinstance(replies[0], Reply)
    assert str(replies[1]) == "connection lost: the connection was closed"


class Together:
    """A connection kind with a shared send-and-wait, noting its calls; its
    replies come last VM first."""

    calls: list[list[str]] = []

    def __init__(self, name: str) -> None:
        self.name = name

    @staticmethod
    def execute_together(connections: Sequence[Together], requests: Sequence[dict[str, Any]],
                         timeout: float | None = None,
                         each: Callable[[int, Reply | ConnectError], None] | None = None,
                         ) -> list[Reply | ConnectError]:
        Together.calls.append([c.name for c in connections])
        replies: list[Reply | ConnectError] = [
            Reply({"return": {"vm": c.name}}, 1) for c in connections]
        for slot in reversed(range(len(connections))):
            if each is not None:
                each(slot, replies[slot])
        return replies

    def take_events(self, before: int | None = None) -> list[dict[str, Any]]:
        return []


def test_the_fan_out_uses_the_shared_wait_and_no_thread() -> None:
    Together.calls = []
    members = [Member(n, cast(QmpConnection, Together(n))) for n in ("a", "b", "c")]

    def no_pool() -> Any:
        raise AssertionError("a thread was asked for")

    captures = send_everywhere(
        members, lambda schema: dict(QUERY), None, schema_of=lambda m: Schema(),
        renderer_for=lambda m: Renderer().labelled(m.name), verbose=False, pool=no_pool,
        gathered=False)
    assert Together.calls == [["a", "b", "c"]]
    assert [c.texts for c in captures] == [[json.dumps({"vm": n, "return": {"vm": n}})]
                                           for n in ("a", "b", "c")]
    assert all(isinstance(c, Capture) and c.ok for c in captures)


@pytest.mark.parametrize("driver", DRIVERS)
def test_each_reply_is_told_as_it_comes(driver: str) -> None:
    told: list[tuple[int, object]] = []
    with servers(3, in_reverse, driver) as conns:
        replies = together(conns, [QUERY] * 3, each=lambda slot, r: told.append((slot, r)))
    assert sorted(slot for slot, _ in told) == [0, 1, 2]  # once each, as they came
    assert dict(told) == dict(enumerate(replies))


def test_a_request_encoded_once_is_sent_as_encoding_it_with_its_id_would() -> None:
    request = {"execute": "blockdev-add", "arguments": {
        "driver": "null-co", "node-name": "n\u00e9\"0", "size": 1048576, "x": [None, True]}}
    head = request_head(request)
    first, second = QmpProtocol(negotiate=False), QmpProtocol(negotiate=False)
    second.send(QUERY)  # ids differ from VM to VM
    for proto in (first, second):
        plain = QmpProtocol(negotiate=False)
        plain._next_id = proto._next_id
        assert proto.send(request, head).data == plain.send(request).data
    assert request_head({}) is None


def fleet(conns: list[Conn], printed: list[str]) -> Runner:
    """A runner holding ``conns`` as q1, q2 ..., printing compact output."""
    schema = Schema()
    runner = Runner(Settings(timeout=5.0), parser=ShorthandParser(schema, allow_unknown=True),
                    schema=schema, connection=None, out=printed.append,
                    report=lambda error, where: printed.append(f"{where}: {error}"))
    for number, conn in enumerate(conns, 1):
        runner.attach(f"q{number}", conn, schema)
    return runner


@pytest.mark.parametrize("driver", DRIVERS)
def test_all_prints_in_vm_order_with_each_vms_events_before_its_reply(driver: str) -> None:
    def event_then_reverse(far: list[socket.socket], requests: list[dict[str, Any]]) -> None:
        far[1].sendall(b'{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 0}}\n')
        in_reverse(far, requests)

    printed: list[str] = []
    with servers(3, event_then_reverse, driver) as conns:
        assert fleet(conns, printed).run_line("@all query-status", "f:1")
    assert [json.loads(text) for text in printed] == [
        {"vm": "q1", "return": {"vm": 1}},
        {"vm": "q2", "event": "STOP", "timestamp": {"seconds": 1, "microseconds": 0}},
        {"vm": "q2", "return": {"vm": 2}},
        {"vm": "q3", "return": {"vm": 3}}]


@pytest.mark.parametrize("driver", DRIVERS)
def test_all_with_a_vm_hanging_up_prints_every_vm_in_order_then_ends_the_line(
        driver: str) -> None:
    def second_hangs_up(far: list[socket.socket], requests: list[dict[str, Any]]) -> None:
        far[1].close()
        for number in (2, 0):
            reply(far[number], requests[number], {"vm": number + 1})

    printed: list[str] = []
    with servers(3, second_hangs_up, driver) as conns:
        runner = fleet(conns, printed)
        with pytest.raises(ConnectError, match="^q2: connection lost: the server closed"):
            runner.run_line("@all query-status", "f:1")
    assert printed == ['{"vm": "q1", "return": {"vm": 1}}',
                       "q2: connection lost: the server closed the connection",
                       '{"vm": "q3", "return": {"vm": 3}}']


SECRET_LINE = "object-add qom-type=secret id=s0 data=********"
"""A line as a recording keeps it: the secret's value masked."""


@pytest.mark.parametrize("driver", DRIVERS)
def test_all_fills_in_a_recordings_masked_secret_on_every_vm(driver: str) -> None:
    seen: list[dict[str, Any]] = []

    def note(far: list[socket.socket], requests: list[dict[str, Any]]) -> None:
        seen.extend(requests)
        in_reverse(far, requests)

    printed: list[str] = []
    with servers(2, note, driver) as conns:
        runner = fleet(conns, printed)
        runner.secrets = SecretSource({"data": "hunter2"})
        assert runner.run_line(f"@all {SECRET_LINE}", "f:1")
    assert [r["arguments"]["data"] for r in seen] == ["hunter2", "hunter2"]


def test_all_fills_in_a_masked_hmp_password_on_every_vm() -> None:
    seen: list[dict[str, Any]] = []

    def note(far: list[socket.socket], requests: list[dict[str, Any]]) -> None:
        seen.extend(requests)
        for sock, request in zip(far, requests, strict=True):
            reply(sock, request, "")

    printed: list[str] = []
    with servers(2, note) as conns:
        runner = fleet(conns, printed)
        runner.secrets = SecretSource({"password": "hunter2"})
        assert runner.run_line("@all .hmp change vnc password ********", "f:1")
        runner.close_pool()
    assert [r["arguments"]["command-line"] for r in seen] == ["change vnc password hunter2"] * 2


@pytest.mark.parametrize("line", [f"@all {SECRET_LINE}", "@all .hmp change vnc password ********"])
def test_a_masked_secret_nobody_gave_fails_the_line_and_sends_nothing(line: str) -> None:
    pairs = [socket.socketpair() for _ in range(2)]
    conns = []
    for number, (near, _) in enumerate(pairs, 1):
        conn = BlockingConnection(f"vm{number}", timeout=5.0, negotiate=False)
        conn.attach(near)
        conns.append(conn)
    printed: list[str] = []
    runner = fleet(conns, printed)
    runner.secrets = SecretSource({})
    try:
        assert not runner.run_line(line, "f:1")
        for _, far in pairs:
            far.setblocking(False)
            with pytest.raises(BlockingIOError):
                far.recv(4096)
    finally:
        for conn in conns:
            conn.close()
        for _, far in pairs:
            far.close()
    assert len(printed) == 2 and all("is masked in this recording" in p for p in printed)
