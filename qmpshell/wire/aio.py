"""The asyncio driver: :class:`AsyncConnection`, for the prompt.

The socket is read on the prompt's event loop (so events arrive while a
person types) and fed to the protocol core of :mod:`qmpshell.wire.protocol`;
the runner, which is synchronous, runs each line in a worker thread and uses
the same blocking :class:`~qmpshell.wire.connection.QmpConnection` calls as
with the blocking driver: they hand the request to the loop and wait on a
condition the loop signals.  Code on the loop itself (completion look-ups,
schema loading) uses :meth:`AsyncConnection.execute_async`, and
:meth:`AsyncConnection.watch` tells the prompt when events arrive or the
connection goes, so it can print them while no line runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from qmpshell.errors import CommandTimeout, ConnectError
from qmpshell.wire.address import (
    TLS_NUDGE,
    TLSOptions,
    closed_before_greeting,
    connect_reason,
    lost_reason,
    parse_address,
    tls_context,
)
from qmpshell.wire.blocking import Each
from qmpshell.wire.connection import (
    Interrupted,
    QmpConnection,
    Reply,
    SocketEndpoint,
    Warn,
    wait_until,
)
from qmpshell.wire.protocol import (
    Closed,
    EventReceived,
    Ready,
    ReplyReceived,
    State,
    UnmatchedReply,
    silence,
)

if TYPE_CHECKING:
    from qmpshell.wire.logfile import MessageLog


class _Slot:
    """One request on its way: where its reply (or failure) lands."""

    __slots__ = ("request_id", "reply", "error", "future", "abandoned")

    def __init__(self, future: asyncio.Future[Reply] | None = None) -> None:
        self.request_id = 0
        self.reply: Reply | None = None
        self.error: str | None = None
        self.future = future
        self.abandoned = False


class _Stream(asyncio.Protocol):
    """Hands the transport's bytes to the connection."""

    def __init__(self, owner: AsyncConnection) -> None:
        self._owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._owner._attached(transport)

    def data_received(self, data: bytes) -> None:
        self._owner._feed(data)

    def eof_received(self) -> bool | None:
        self._owner._feed(b"")
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner._transport_lost(exc)


class AsyncConnection(SocketEndpoint):
    """One QMP connection read on an event loop (a
    :class:`~qmpshell.wire.connection.QmpConnection` for worker threads)."""

    def __init__(self, address: str, *, timeout: float | None = None, negotiate: bool = True,
                 tls: TLSOptions | None = None, log: MessageLog | None = None,
                 warn: Warn | None = None, connect_timeout: float | None = None,
                 agent: bool = False) -> None:
        super().__init__(address, timeout=timeout, negotiate=negotiate, tls=tls, log=log,
                         warn=warn, connect_timeout=connect_timeout, agent=agent)
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._transport: asyncio.Transport | None = None
        self._ready: asyncio.Future[None] | None = None
        self._slots: dict[int, _Slot] = {}
        self._interrupts = 0
        self._watcher: Callable[[], None] | None = None

    # -- connecting (on the loop) ------------------------------------------
    @property
    def connected(self) -> bool:
        return self._transport is not None and self._lost is None

    async def connect(self) -> None:
        """Connect, await the greeting and negotiate (unless -N)."""
        loop = self._bind()
        target = parse_address(self.name)
        context = tls_context(self.name, self.tls) if self.tls is not None else None
        await self._set_up(lambda: loop.create_connection(
            lambda: _Stream(self), target[0], target[1], ssl=context,
            server_hostname=(self.tls.server_name or target[0]) if self.tls else None)
            if isinstance(target, tuple) else
            loop.create_unix_connection(lambda: _Stream(self), target))

    async def attach(self, sock: socket.socket) -> None:
        """Speak QMP over ``sock``, already connected (--spawn accepts it)."""
        loop = self._bind()
        await self._set_up(lambda: loop.create_unix_connection(lambda: _Stream(self),
                                                               sock=sock))

    def _bind(self) -> asyncio.AbstractEventLoop:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._ready = self._loop.create_future()
        return self._loop

    async def _set_up(self, opening: Callable[[], Any]) -> None:
        assert self._ready is not None
        limit = self.connect_timeout
        try:
            async with asyncio.timeout(limit):
                await opening()
                await self._ready
        except TimeoutError:
            state = self._proto.state
            self.close()
            raise ConnectError(silence(self.name, state, limit)) from None
        except OSError as exc:
            self.close()
            raise ConnectError(f"{self.name}: {connect_reason(exc)}") from None
        except ConnectError:
            self.close()
            raise

    # -- the loop's side ---------------------------------------------------
    def _attached(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._route()  # -N: Ready is already waiting

    def _feed(self, data: bytes) -> None:
        self._proto.receive_data(data)
        self._route()

    def _transport_lost(self, exc: Exception | None) -> None:
        if exc is None:
            self._proto.receive_data(b"")
        else:
            self._proto.connection_lost(lost_reason(exc))
        self._route()

    def _route(self) -> None:
        proto = self._proto
        activity = answered = False
        with self._cond:
            while (event := proto.next_event()) is not None:
                if type(event) is ReplyReceived:
                    slot = self._slots.pop(event.request_id, None)
                    if slot is not None:
                        slot.reply = Reply(event.message, event.seq)
                        answered = True
                        if slot.future is not None and not slot.future.done():
                            slot.future.set_result(slot.reply)
                elif type(event) is EventReceived:
                    self._events.add(event.seq, event.message)
                    activity = True
                elif type(event) is Ready:
                    if self._ready is not None and not self._ready.done():
                        self._ready.set_result(None)
                elif type(event) is UnmatchedReply:
                    if self.warn is not None:
                        self.warn(event.text)
                elif type(event) is Closed:
                    self._closed(event)
                    activity = True
            if activity or answered:
                self._cond.notify_all()
        if proto.state is State.NEGOTIATING and self._transport is not None:
            data = proto.data_to_send()
            if data:
                self._write(data)
        if activity and self._watcher is not None:
            self._watcher()

    def _closed(self, event: Closed) -> None:
        self._lost = event.reason
        if self._ready is not None and not self._ready.done():
            reason = event.reason
            if self._proto.greeting is None:
                reason = closed_before_greeting(reason, self.tls)
            self._ready.set_exception(ConnectError(f"{self.name}: {reason}"))
            self._ready.exception()  # retrieved: connect() reports it, or nobody waits
        for slot in self._slots.values():
            slot.error = event.reason
            if slot.future is not None and not slot.future.done():
                slot.future.set_exception(ConnectError(f"connection lost: {event.reason}"))
        self._slots.clear()
        if self._transport is not None:
            self._transport.abort()

    def _start(self, request: dict[str, Any], slot: _Slot) -> None:
        """Send ``request`` (on the loop); its reply lands in ``slot``."""
        with self._cond:
            if slot.abandoned:
                return
            if self._lost is not None or self._transport is None:
                slot.error = self._lost or "not connected"
                self._cond.notify_all()
                return
            outgoing = self._proto.send(request)
            slot.request_id = outgoing.request_id
            self._slots[outgoing.request_id] = slot
        self._write(outgoing.data)

    def _write(self, data: bytes) -> None:
        """Write a request (or qmp_capabilities); over TLS, then the nudge
        record QEMU before 8.0 needs to answer it (see TLS_NUDGE)."""
        assert self._transport is not None
        self._transport.write(data)
        if self.tls is not None:
            self._transport.write(TLS_NUDGE)  # a record of its own

    def _abandon(self, slot: _Slot) -> None:
        """Nobody waits for ``slot`` any more (on the loop)."""
        with self._cond:
            slot.abandoned = True
            if slot.request_id and self._slots.pop(slot.request_id, None) is not None:
                self._proto.abandon(slot.request_id)

    async def execute_async(self, request: dict[str, Any],
                            timeout: float | None = None) -> Reply:
        """:meth:`execute` for code running on the loop."""
        if self._lost is not None or self._loop is None:
            raise ConnectError(f"connection lost: {self.lost_reason()}")
        slot = _Slot(self._loop.create_future())
        assert slot.future is not None
        self._start(request, slot)
        if slot.error is not None:
            raise ConnectError(f"connection lost: {slot.error}")
        limit = self.timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.shield(slot.future), limit)
        except TimeoutError:
            name = request.get("execute", request.get("exec-oob", "?"))
            raise CommandTimeout(f"no reply to {name} within {limit:g} s") from None
        finally:
            if not slot.future.done():
                self._abandon(slot)

    def watch(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` on the loop whenever events arrive or the
        connection goes (None: stop)."""
        self._watcher = callback

    # -- the worker thread's side ------------------------------------------
    def execute(self, request: dict[str, Any], timeout: float | None = None) -> Reply:
        loop = self._worker_loop()
        slot = _Slot()
        with self._cond:
            if self._lost is not None:
                raise ConnectError(f"connection lost: {self._lost}")
            generation = self._interrupts
        try:
            loop.call_soon_threadsafe(self._start, request, slot)
        except RuntimeError:  # the loop is gone
            raise ConnectError("connection lost: the connection was closed") from None
        limit = self.timeout if timeout is None else timeout
        deadline = None if limit is None else time.monotonic() + limit
        return self._await(slot, request, limit, deadline,
                           lambda: self._interrupts != generation)

    def _worker_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None or threading.get_ident() == self._loop_thread:
            raise RuntimeError("AsyncConnection.execute is for worker threads")
        return loop

    def _await(self, slot: _Slot, request: dict[str, Any], limit: float | None,
               deadline: float | None, interrupted: Callable[[], bool]) -> Reply:
        """Wait (in a worker thread) for the reply that lands in ``slot``."""
        with self._cond:
            try:
                answered = wait_until(
                    self._cond, lambda: slot.reply is not None or slot.error is not None,
                    deadline, interrupted)
            except Interrupted:
                self._give_up(slot)
                raise
            if not answered:
                self._give_up(slot)
                name = request.get("execute", request.get("exec-oob", "?"))
                raise CommandTimeout(f"no reply to {name} within {limit:g} s")
        if slot.reply is None:
            raise ConnectError(f"connection lost: {slot.error}")
        return slot.reply

    @staticmethod
    def execute_together(connections: Sequence[AsyncConnection],
                         requests: Sequence[dict[str, Any]], timeout: float | None = None,
                         each: Each | None = None) -> list[Reply | ConnectError]:
        """:meth:`execute` on several connections at once, from one worker
        thread: every request is handed to the loop in one call (no thread
        per connection), then the replies are awaited in turn, all of them
        on their way meanwhile.  As the blocking driver's
        :func:`~qmpshell.wire.blocking.execute_together`: ``each`` hears each
        outcome (here in the connections' order), a lost or silent
        connection gets its own error, and :class:`Interrupted` ends the wait
        for all (the prompt interrupts every connection; one interrupted
        alone is noticed once its turn comes)."""
        slots = [_Slot() for _ in connections]
        generations = []
        for conn, slot in zip(connections, slots, strict=True):
            conn._worker_loop()
            with conn._cond:
                generations.append(conn._interrupts)
                if conn._lost is not None:
                    slot.error = conn._lost
        by_loop: dict[asyncio.AbstractEventLoop, list[int]] = {}
        for index, conn in enumerate(connections):
            if slots[index].error is None and conn._loop is not None:
                by_loop.setdefault(conn._loop, []).append(index)
        for loop, indexes in by_loop.items():
            def start(indexes: list[int] = indexes) -> None:
                for index in indexes:
                    connections[index]._start(requests[index], slots[index])
            try:
                loop.call_soon_threadsafe(start)
            except RuntimeError:  # the loop is gone
                for index in indexes:
                    slots[index].error = "the connection was closed"

        def interrupted() -> bool:
            return any(c._interrupts != g
                       for c, g in zip(connections, generations, strict=True))

        now = time.monotonic()
        outcomes: list[Reply | ConnectError] = []
        for index, (conn, slot) in enumerate(zip(connections, slots, strict=True)):
            limit = conn.timeout if timeout is None else timeout
            try:
                outcome: Reply | ConnectError = conn._await(
                    slot, requests[index], limit, None if limit is None else now + limit,
                    interrupted)
            except ConnectError as error:
                outcome = error
            except Interrupted:
                for later, later_slot in zip(connections[index + 1:], slots[index + 1:],
                                             strict=True):
                    later._give_up(later_slot)
                raise
            outcomes.append(outcome)
            if each is not None:
                each(index, outcome)
        return outcomes

    def _give_up(self, slot: _Slot) -> None:
        slot.abandoned = True
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is gone
                self._loop.call_soon_threadsafe(self._abandon, slot)

    def take_events(self, before: int | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return self._events.take(before)

    def wait_events(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            generation = self._interrupts
            wait_until(self._cond, lambda: bool(self._events) or self._lost is not None,
                       deadline, lambda: self._interrupts != generation)
            return bool(self._events)

    def lost_reason(self) -> str | None:
        if self._transport is None and self._lost is None:
            return "not connected"
        return self._lost

    def interrupt(self) -> None:
        with self._cond:
            self._interrupts += 1
            self._cond.notify_all()

    def close(self) -> None:
        loop = self._loop
        if loop is not None and threading.get_ident() != self._loop_thread:
            with contextlib.suppress(RuntimeError):  # the loop is gone
                loop.call_soon_threadsafe(self.close)
            return
        self._watcher = None
        if self._lost is None:
            self._proto.close()
            self._route()
        if self._transport is not None:
            self._transport.close()


async def execute_on_loop(conn: QmpConnection, request: dict[str, Any]) -> dict[str, Any]:
    """``request``'s reply, awaited on the running loop: directly over the
    asyncio driver, in a worker thread over any other connection (libvirt,
    the guest agent's)."""
    direct = getattr(conn, "execute_async", None)
    if direct is not None:
        reply = await direct(request)
    else:
        reply = await asyncio.get_running_loop().run_in_executor(None, conn.execute, request)
    return dict(reply.message)
