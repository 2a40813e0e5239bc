"""The blocking driver: :class:`BlockingConnection`, for scripted runs.

A plain socket (UNIX, TCP, TLS) and the protocol core of
:mod:`qmpshell.wire.protocol`; no event loop, no thread, so that ``-c``,
``-f`` and stdin start as fast as a raw socket client and import nothing
they do not use.  Waits poll the socket and a wake-up pipe together, so
:meth:`BlockingConnection.interrupt` works from a signal handler or another
thread, and every wait has a deadline when a timeout is set.
:meth:`BlockingConnection.send_next` lets a replayed run of queries keep the
next ones on their way while the caller prints the previous reply.
"""

from __future__ import annotations

import collections
import contextlib
import os
import select
import socket
import time
from collections.abc import Callable, Sequence

from qmpshell.errors import CommandTimeout, ConnectError
from qmpshell.wire.address import (
    TLS_NUDGE,
    TLSOptions,
    closed_before_greeting,
    connect_reason,
    lost_reason,
    open_socket,
)
from qmpshell.wire.connection import Interrupted, Reply, SocketEndpoint, Warn
from qmpshell.wire.protocol import (
    Closed,
    EventReceived,
    Ready,
    ReplyReceived,
    State,
    UnmatchedReply,
    request_head,
    silence,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.wire.logfile import MessageLog

READ_SIZE = 262144
"""Bytes read at most at once, into one buffer kept for the connection: a
fresh 256 KiB object per read would be mapped and unmapped by the allocator
each time (about 12 us, per reply of a replayed session)."""

Each = Callable[[int, Reply | ConnectError], None]
"""Told each outcome of :func:`execute_together` as soon as it is known: the
connection's place in the list, and its reply or why none came."""


class BlockingConnection(SocketEndpoint):
    """One QMP connection over a blocking socket (a
    :class:`~qmpshell.wire.connection.QmpConnection`).

    ``timeout``: the default reply timeout of :meth:`execute` (None: none),
    also the limit for connecting and the greeting (default
    :data:`~qmpshell.wire.address.CONNECT_TIMEOUT`).  ``warn`` hears about
    oddities that do not end the connection (a reply for no request)."""

    def __init__(self, address: str, *, timeout: float | None = None, negotiate: bool = True,
                 tls: TLSOptions | None = None, log: MessageLog | None = None,
                 warn: Warn | None = None, connect_timeout: float | None = None,
                 agent: bool = False) -> None:
        super().__init__(address, timeout=timeout, negotiate=negotiate, tls=tls, log=log,
                         warn=warn, connect_timeout=connect_timeout, agent=agent)
        self._sock: socket.socket | None = None
        self._poll: Callable[[float], list[Any]] | None = None
        self._wake_r = self._wake_w = -1
        self._relay = -1
        """Another connection's wake-up pipe that :meth:`interrupt` writes too
        while a shared wait (:func:`execute_together`) watches that one."""
        self._inbox = memoryview(bytearray(READ_SIZE))
        self._tls_pending: Callable[[], int] | None = None
        """Bytes TLS already decrypted, which poll does not see."""
        self._replies: dict[int, Reply] = {}
        self._ready = False
        self._next: list[dict[str, Any]] = []
        """The requests :meth:`send_next` announced, sent along with the next one."""
        self._ahead: collections.deque[tuple[dict[str, Any], int]] = collections.deque()
        """Requests sent before their turn, and their ids, in order."""

    # -- connecting ------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._sock is not None and self._lost is None

    def connect(self) -> None:
        """Connect, await the greeting and negotiate (unless -N)."""
        try:
            sock = open_socket(self.name, self.tls, self.connect_timeout)
        except ConnectError:
            raise
        except OSError as exc:
            raise ConnectError(f"{self.name}: {connect_reason(exc)}") from None
        self.attach(sock)

    def attach(self, sock: socket.socket) -> None:
        """Speak QMP over ``sock``, already connected (--spawn accepts it)."""
        sock.setblocking(False)
        self._sock = sock
        self._tls_pending = getattr(sock, "pending", None)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        self._poll = poller.poll
        deadline = time.monotonic() + self.connect_timeout
        self._route()  # -N: Ready is already waiting
        try:
            while not self._ready:
                if self._lost is not None:
                    reason = self._lost
                    if self._proto.greeting is None:
                        reason = closed_before_greeting(reason, self.tls)
                    raise ConnectError(f"{self.name}: {reason}")
                if not self._read(deadline, interruptible=False):
                    raise ConnectError(silence(self.name, self._proto.state,
                                               self.connect_timeout))
        except BaseException:
            self.close()
            raise

    def fileno(self) -> int:
        """The socket's descriptor, for a caller that waits on it with others."""
        return self._sock.fileno() if self._sock is not None else -1

    # -- commands --------------------------------------------------------
    def execute(self, request: dict[str, Any], timeout: float | None = None) -> Reply:
        ahead = self._ahead
        if ahead and ahead[0][0] == request:
            request_id = ahead.popleft()[1]  # sent already, after the previous one
        else:
            while ahead:
                self._drop(ahead.popleft()[1])
            request_id = self.submit(request)
        following, self._next = self._next, []
        for request_ahead in following:
            if self._lost is not None:
                break
            ahead.append((request_ahead, self.submit(request_ahead)))
        return self.collect(request_id, request, timeout)

    def send_next(self, request: dict[str, Any]) -> None:
        """Announce a request that will most likely be executed after those
        announced before it: the next :meth:`execute` sends it right after
        its own request, so that QEMU answers it while the caller is busy
        with earlier replies (a replayed session's run of queries).  Only for
        requests without effects (``query-*``): if the caller executes
        something else, or nothing, the requests sent ahead are dropped with
        their replies unseen."""
        self._next.append(request)

    def _drop(self, request_id: int) -> None:
        """Forget a request sent ahead that nobody executes."""
        if self._replies.pop(request_id, None) is None:
            self._proto.abandon(request_id)

    def submit(self, request: dict[str, Any]) -> int:
        """Send ``request`` without waiting for its reply; the id
        :meth:`collect` takes.  A line for several VMs is sent to all of
        them before any reply is read, so they work at once, with no thread."""
        if self._lost is not None or self._sock is None:
            raise ConnectError(f"connection lost: {self.lost_reason() or 'not connected'}")
        outgoing = self._proto.send(request)
        self._write(outgoing.data)
        return outgoing.request_id

    def collect(self, request_id: int, request: dict[str, Any],
                timeout: float | None = None) -> Reply:
        """Wait for the reply to a request :meth:`submit` sent."""
        limit = self.timeout if timeout is None else timeout
        deadline = None if limit is None else time.monotonic() + limit
        replies = self._replies
        try:
            while request_id not in replies:
                if self._lost is not None:
                    raise ConnectError(f"connection lost: {self._lost}")
                if not self._read(deadline):
                    name = request.get("execute", request.get("exec-oob", "?"))
                    raise CommandTimeout(f"no reply to {name} within {limit:g} s")
        except BaseException:
            self._proto.abandon(request_id)
            raise
        return replies.pop(request_id)

    def _write(self, data: bytes) -> None:
        """Write a request (or qmp_capabilities); over TLS, then the nudge
        record QEMU before 8.0 needs to answer it (see TLS_NUDGE)."""
        self._write_record(data)
        if self.tls is not None and self._lost is None:
            self._write_record(TLS_NUDGE)

    def _write_record(self, data: bytes) -> None:
        sock = self._sock
        assert sock is not None
        try:
            sent = sock.send(data)  # the usual case: all of it at once
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._fail(lost_reason(exc))
            return
        if sent < len(data):
            self._write_slowly(memoryview(data)[sent:])

    def _write_slowly(self, data: memoryview) -> None:
        sock = self._sock
        assert sock is not None
        while data and self._lost is None:
            select.select([], [sock], [], None)
            try:
                sent = sock.send(data)
            except BlockingIOError:
                continue
            except OSError as exc:
                self._fail(lost_reason(exc))
                return
            data = data[sent:]

    # -- reading ---------------------------------------------------------
    def _read(self, deadline: float | None, interruptible: bool = True) -> bool:
        """Read what arrives before ``deadline`` and route it; False when
        nothing came in time."""
        sock = self._sock
        poll = self._poll
        assert sock is not None and poll is not None
        pending = self._tls_pending
        if pending is None or not pending():
            if deadline is None:
                ready = poll(-1)
            else:
                ready = poll(max(0.0, deadline - time.monotonic()) * 1000.0)
            if not ready:
                return False
            if len(ready) > 1 or ready[0][0] == self._wake_r:  # Ctrl-C goes first
                self._drain_wakeups()
                if interruptible:
                    raise Interrupted("interrupted")
                return True
        try:
            size = sock.recv_into(self._inbox)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError as exc:
            ssl = _ssl_module()
            if ssl is not None and isinstance(exc, ssl.SSLWantReadError):
                return True
            self._fail(lost_reason(exc))
            return True
        self._feed(self._inbox[:size].tobytes())
        return True

    def _read_ready(self) -> None:
        """Read what the socket holds (poll said it is readable) and route
        it, TLS records already decrypted included."""
        sock = self._sock
        assert sock is not None
        pending = getattr(sock, "pending", None)
        while True:
            try:
                size = sock.recv_into(self._inbox)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                ssl = _ssl_module()
                if ssl is None or not isinstance(exc, ssl.SSLWantReadError):
                    self._fail(lost_reason(exc))
                return
            self._feed(self._inbox[:size].tobytes())
            if pending is None or not size or not pending():
                return

    def _feed(self, data: bytes) -> None:
        self._proto.receive_data(data)
        self._route()

    def _route(self) -> None:
        proto = self._proto
        while (event := proto.next_event()) is not None:
            if type(event) is ReplyReceived:
                self._replies[event.request_id] = Reply(event.message, event.seq)
            elif type(event) is EventReceived:
                self._events.add(event.seq, event.message)
            elif type(event) is Ready:
                self._ready = True
            elif type(event) is UnmatchedReply:
                if self.warn is not None:
                    self.warn(event.text)
            elif type(event) is Closed:
                self._lost = event.reason
        if proto.state is State.NEGOTIATING and (outgoing := proto.data_to_send()):
            self._write(outgoing)

    def _fail(self, reason: str) -> None:
        self._proto.connection_lost(reason)
        self._route()

    def _drain_wakeups(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_r, 64):
                pass

    def lost_reason(self) -> str | None:
        if self._sock is None and self._lost is None:
            return "not connected"
        return self._lost

    def interrupt(self) -> None:
        for fd in (self._wake_w, self._relay):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.write(fd, b"!")

    # -- events ----------------------------------------------------------
    def take_events(self, before: int | None = None) -> list[dict[str, Any]]:
        if before is None and self._ahead:
            arrived = self._replies.get(self._ahead[0][1])
            if arrived is not None:  # the events after it are its caller's
                before = arrived.seq
        return self._events.take(before)

    def wait_events(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._events:
            if not self.connected:
                return False
            if not self._read(deadline):
                return bool(self._events)
        return True

    def poll_events(self) -> None:
        """Route whatever already arrived, without waiting."""
        while self.connected and self._read(time.monotonic()):
            pass

    # -- one line on several VMs -----------------------------------------
    @staticmethod
    def execute_together(connections: Sequence[BlockingConnection],
                         requests: Sequence[dict[str, Any]], timeout: float | None = None,
                         each: Each | None = None) -> list[Reply | ConnectError]:
        """:func:`execute_together`, found through the connections' type."""
        return execute_together(connections, requests, timeout, each)

    def _outcome(self, request_id: int) -> Reply | ConnectError | None:
        """The reply to ``request_id`` once it came, the loss once the
        connection went, else None (still awaited)."""
        reply = self._replies.pop(request_id, None)
        if reply is None and self._lost is not None:
            return ConnectError(f"connection lost: {self._lost}")
        return reply

    # -- closing ---------------------------------------------------------
    def close(self) -> None:
        if self._lost is None:
            self._lost = "the connection was closed"
            self._proto.close()
        if self._sock is not None:
            self._sock.close()
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1
        self._poll = None


class _Awaited:
    """A request of :func:`execute_together` whose reply is awaited (a
    slotted class: cheaper to define at start-up than a named tuple)."""

    __slots__ = ("slot", "conn", "request_id", "request", "limit", "deadline")

    def __init__(self, slot: int, conn: BlockingConnection, request_id: int,
                 request: dict[str, Any], limit: float | None, deadline: float | None) -> None:
        self.slot = slot
        self.conn = conn
        self.request_id = request_id
        self.request = request
        self.limit = limit
        self.deadline = deadline


def execute_together(connections: Sequence[BlockingConnection],
                     requests: Sequence[dict[str, Any]], timeout: float | None = None,
                     each: Each | None = None) -> list[Reply | ConnectError]:
    """Send each request on its connection, then wait for all the replies at
    once: one line on many VMs costs a send and a read each and a shared
    wait, with no thread.  Each request is sent as soon as it is encoded (a
    request shared by several connections once), so the first VM is at work
    while the shell is still busy with the others; the wait polls every
    socket together and reads whichever is ready, and ``each`` hears of
    every reply as it comes (its caller can render it while the others are
    still on their way).

    ``timeout``: seconds each reply may take (None: each connection's own).
    A connection that is lost, or whose reply is late, gets its own
    :class:`~qmpshell.errors.ConnectError` (or
    :class:`~qmpshell.errors.CommandTimeout`) and the others still answer;
    :class:`Interrupted` (Ctrl-C, any connection's
    :meth:`~BlockingConnection.interrupt`) ends the wait for all."""
    outcomes: list[Reply | ConnectError | None] = [None] * len(connections)

    def settle(slot: int, outcome: Reply | ConnectError) -> None:
        outcomes[slot] = outcome
        if each is not None:
            each(slot, outcome)

    heads: dict[int, str | None] = {}
    awaited = []
    now = time.monotonic()
    for slot, (conn, request) in enumerate(zip(connections, requests, strict=True)):
        if not conn.connected:
            settle(slot, ConnectError(f"connection lost: {conn.lost_reason()}"))
            continue
        if (head := heads.get(id(request), "")) == "":
            head = heads[id(request)] = request_head(request)
        outgoing = conn._proto.send(request, head)
        conn._write(outgoing.data)  # this VM starts while the next is encoded
        limit = conn.timeout if timeout is None else timeout
        awaited.append(_Awaited(slot, conn, outgoing.request_id, request, limit,
                                None if limit is None else now + limit))
    _await_all(awaited, settle)
    return [outcome for outcome in outcomes if outcome is not None]  # every one filled in


def _await_all(entries: list[_Awaited], done: Each) -> None:
    """The shared wait of :func:`execute_together`: ``done`` hears each
    outcome.  It polls the sockets and one wake-up pipe, the first
    connection's, which the others' :meth:`~BlockingConnection.interrupt`
    writes to meanwhile: a poll over every pipe too costs about 5% of a line
    to 20 VMs."""
    awaited: dict[int, _Awaited] = {}  # by socket
    poller = select.poll()
    waker = entries[0].conn if entries else None

    def settle(fd: int, outcome: Reply | ConnectError) -> None:
        entry = awaited.pop(fd)
        poller.unregister(fd)
        done(entry.slot, outcome)

    for entry in entries:
        conn = entry.conn
        fd = conn.fileno()
        awaited[fd] = entry
        poller.register(fd, select.POLLIN)
        if (pending := getattr(conn._sock, "pending", None)) is not None and pending():
            conn._read_ready()  # TLS: already decrypted, poll would not see it
        if (outcome := conn._outcome(entry.request_id)) is not None:
            settle(fd, outcome)
    if not awaited or waker is None:
        return
    wake = waker._wake_r
    poller.register(wake, select.POLLIN)
    for entry in entries:
        if entry.conn is not waker:
            entry.conn._relay = waker._wake_w
    try:
        while awaited:
            deadline = min((e.deadline for e in awaited.values() if e.deadline is not None),
                           default=None)
            ready = poller.poll(-1 if deadline is None else
                                max(0.0, deadline - time.monotonic()) * 1000.0)
            for fd, _ in ready:
                if fd == wake:
                    for entry in entries:
                        entry.conn._drain_wakeups()
                    raise Interrupted("interrupted")
                entry = awaited[fd]
                entry.conn._read_ready()
                if (outcome := entry.conn._outcome(entry.request_id)) is not None:
                    settle(fd, outcome)
            if deadline is not None and (now := time.monotonic()) >= deadline:
                for fd, entry in list(awaited.items()):
                    if entry.deadline is not None and now >= entry.deadline:
                        entry.conn._proto.abandon(entry.request_id)
                        name = entry.request.get("execute", entry.request.get("exec-oob", "?"))
                        settle(fd, CommandTimeout(f"no reply to {name} within {entry.limit:g} s"))
    except BaseException:
        for entry in awaited.values():
            entry.conn._proto.abandon(entry.request_id)
        raise
    finally:
        for entry in entries:
            entry.conn._relay = -1


def _ssl_module() -> Any:
    import sys

    return sys.modules.get("ssl")
