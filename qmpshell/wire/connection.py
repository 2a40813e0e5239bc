"""What the runner needs of a connection to a monitor: :class:`QmpConnection`.

The runner is synchronous and depends on this interface only, so that every
kind of connection is one more implementation of it: the blocking socket
driver (:mod:`qmpshell.wire.blocking`, scripts), the asyncio driver
(:mod:`qmpshell.wire.aio`, the prompt, called from the worker thread that runs
a line), a libvirt domain.  Failures are :class:`~qmpshell.errors.ConnectError`
(the connection could not be used, or went away),
:class:`~qmpshell.errors.CommandTimeout` (no reply in time) and
:class:`Interrupted` (:meth:`QmpConnection.interrupt` was called).
"""

from __future__ import annotations

import collections
from collections.abc import Callable

from qmpshell.records import Record
from qmpshell.wire.address import CONNECT_TIMEOUT
from qmpshell.wire.protocol import new_protocol

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import threading
    from typing import Any, Protocol

    from qmpshell.wire.address import TLSOptions
    from qmpshell.wire.logfile import MessageLog
else:
    Protocol = object  # the structural type is mypy's; at run time a plain base

EVENT_BACKLOG = 100_000
"""Events a connection keeps until they are taken; past it the oldest go,
counted in :attr:`EventBacklog.dropped` (the runner says so, a script fails)."""

Warn = Callable[[str], None]
"""Hears about oddities that do not end a connection (a reply for no request)."""


class Reply(Record):
    """A reply as QMP defines it (``{"return": ...}`` or ``{"error": {"class":
    ..., "desc": ...}}``) without its transport id, and its place among the
    events: ``seq`` is its arrival number, and events with a smaller one
    arrived before it."""

    __slots__ = ("message", "seq")

    message: dict[str, Any]
    seq: int

    def __init__(self, message: dict[str, Any], seq: int) -> None:
        self.message = message
        self.seq = seq


class EventBacklog:
    """The events a driver received and nobody took yet, with the sequence
    number that orders them against replies; bounded, and counting what the
    bound drops.  Every driver keeps one; callers lock it as they need."""

    def __init__(self, limit: int = EVENT_BACKLOG) -> None:
        self._events: collections.deque[tuple[int, dict[str, Any]]] = (
            collections.deque(maxlen=limit))
        self.dropped = 0

    def __bool__(self) -> bool:
        return bool(self._events)

    def add(self, seq: int, event: dict[str, Any]) -> None:
        if len(self._events) == self._events.maxlen:
            self.dropped += 1  # the oldest goes
        self._events.append((seq, event))

    def take(self, before: int | None = None) -> list[dict[str, Any]]:
        """The events received before ``before`` (a reply's seq), or all."""
        events = self._events
        taken = []
        while events and (before is None or events[0][0] < before):
            taken.append(events.popleft()[1])
        return taken


class EventSource:
    """A driver's events not yet taken (every driver keeps them alike)."""

    _events: EventBacklog

    @property
    def dropped_events(self) -> int:
        """Events lost because more than EVENT_BACKLOG waited to be taken."""
        return self._events.dropped


class SocketEndpoint(EventSource):
    """What both socket drivers (blocking and asyncio) keep of a connection:
    where it goes and how long it may take, TLS, the message log, and the
    protocol state the bytes go through."""

    def __init__(self, address: str, *, timeout: float | None = None, negotiate: bool = True,
                 tls: TLSOptions | None = None, log: MessageLog | None = None,
                 warn: Warn | None = None, connect_timeout: float | None = None,
                 agent: bool = False) -> None:
        self.name = address
        self.timeout = timeout
        self.connect_timeout = connect_timeout or timeout or CONNECT_TIMEOUT
        self.tls = tls
        self.log = log
        self.warn = warn
        self._proto = new_protocol(negotiate=negotiate, agent=agent,
                                   observer=log.write if log is not None else None)
        self._events = EventBacklog()
        self._lost: str | None = None

    @property
    def greeting(self) -> dict[str, Any] | None:
        return self._proto.greeting


def wait_until(cond: threading.Condition, ready: Callable[[], bool], deadline: float | None,
               interrupted: Callable[[], bool]) -> bool:
    """With ``cond`` held, wait until ``ready()``: False when ``deadline``
    (a ``time.monotonic()``) passed first; :class:`Interrupted` once
    ``interrupted()`` says Ctrl-C came.  For the drivers whose replies and
    events arrive on another thread (asyncio, libvirt)."""
    import time

    while not ready():
        if interrupted():
            raise Interrupted("interrupted")
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return False
        cond.wait(remaining)
    return True


class Interrupted(Exception):  # noqa: N818 - what happened, as the user sees it
    """A blocked :meth:`QmpConnection.execute` or :meth:`QmpConnection.wait_events`
    was woken by :meth:`QmpConnection.interrupt` (Ctrl-C at the prompt).  The
    request may still run on the server; its reply, when it comes, is dropped."""


class QmpConnection(Protocol):
    """One connection to a monitor, used from one thread at a time, except
    :meth:`interrupt`, which any thread may call."""

    @property
    def name(self) -> str:
        """What the user connected to (the address, or the domain's name):
        ``.connect`` without an argument connects there again."""
        ...

    @property
    def greeting(self) -> dict[str, Any] | None:
        """The server's QMP greeting (None without one: ``-N``, guest agent)."""
        ...

    @property
    def connected(self) -> bool:
        """False once the connection is lost or closed."""
        ...

    def execute(self, request: dict[str, Any], timeout: float | None = None) -> Reply:
        """Send ``request`` and wait for its reply.  ``timeout``: seconds to
        wait, None for the connection's own default (``--timeout``; none at
        all if that is unset)."""
        ...

    def take_events(self, before: int | None = None) -> list[dict[str, Any]]:
        """Remove and return the buffered events, oldest first; with
        ``before`` (a :attr:`Reply.seq`) only those that arrived before it."""
        ...

    def wait_events(self, timeout: float | None = None) -> bool:
        """Wait until an event is buffered (True) or ``timeout`` seconds pass
        or the connection is gone (False); None waits without end."""
        ...

    def lost_reason(self) -> str | None:
        """None while connected; otherwise one sentence saying why not."""
        ...

    def interrupt(self) -> None:
        """Wake a blocked :meth:`execute` or :meth:`wait_events` with
        :class:`Interrupted`; callable from any thread (and a signal handler)."""
        ...

    def close(self) -> None:
        """Disconnect; nothing on the way out is the user's problem."""
        ...


class Watchable(Protocol):
    """What a connection offers the prompt to print events while no line
    runs (the asyncio driver; optional for other kinds)."""

    def watch(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` on the prompt's event loop whenever events
        arrive or the connection goes; None stops."""
        ...
