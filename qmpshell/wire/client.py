"""The QMP connection: UNIX or TCP (TLS), greeting, negotiation, ids, events.

A small asyncio protocol of its own.  QEMU's ``qemu.qmp`` library was the
first choice and is what the tests compare against, but its writer task and
reply queues cost two event-loop round trips per request: replaying a
session file ran at about 40% of a plain socket's rate (bench/bench_replay.py).
Here a reply resolves its request's future straight from ``data_received``,
and a caller replaying a script may name the request it will send next
(``send(..., then=...)``): it goes out the moment this reply arrives, if
that reply is a success, instead of after the caller has printed it and
parsed the next line.  Requests still go one at a time, each only after the
previous reply, in the same order; only our own turnaround gets shorter.

The rest adapts QMP to the shell: addresses as the user types them, timeouts,
the message log, events kept in arrival order relative to replies, and every
failure turned into one :class:`~qmpshell.errors.ConnectError` with a
sentence a person can act on.  Transport ids never leave this module.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import os
import select
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from qmpshell.errors import CommandTimeout, ConnectError
from qmpshell.wire.logfile import RECEIVED, SENT, MessageLog

READ_LIMIT = 256 * 1024 * 1024
"""Largest message accepted (a 16 MiB guest-file-read or a huge
query-qmp-schema must arrive whole); only a ceiling, nothing is preallocated."""

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the connection and greeting when --timeout is unset,
so that a server that never greets cannot hang a script."""

DIRECT_READ_SLICE = 0.005
"""With ``direct_reads``, how long a request may wait for its reply outside
the event loop before it falls back to the loop (and its signal handlers)."""

EVENT_BACKLOG = 10000
"""Events kept for a consumer that has not caught up; the oldest go first."""


@dataclass(frozen=True)
class TLSOptions:
    """Certificates for a TLS connection (QEMU's tls-creds-x509 on a socket)."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    server_name: str | None = None

    def context(self) -> ssl.SSLContext:
        """An SSL context that verifies the server against ``ca``."""
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca)
        if self.cert:
            ctx.load_cert_chain(self.cert, self.key)
        return ctx


def parse_address(address: str) -> str | tuple[str, int]:
    """A UNIX socket path, or (host, port) for ``HOST:PORT`` / ``[V6]:PORT``."""
    if "/" not in address:
        host, sep, port = address.rpartition(":")
        if sep and host and port.isdigit():
            return host.strip("[]"), int(port)
    return address


class Reply(NamedTuple):
    """A reply without its transport id, with its place among the events
    (``seq``: its arrival number; events with a smaller one arrived before it).
    A tuple because one is made per reply, on the replay's critical path."""

    message: dict[str, Any]
    seq: int


class _FollowUp:
    """The request a caller will send next, encoded while the server works on
    the current one, and written when the current one's success arrives."""

    __slots__ = ("after", "request", "request_id", "message", "data", "future")

    def __init__(self, after: int, request: dict[str, Any], request_id: int) -> None:
        self.after = after
        self.request = request
        self.request_id = request_id
        self.message = {**request, "id": request_id}
        self.data = json.dumps(self.message).encode() + b"\n"
        self.future: asyncio.Future[Reply] | None = None


class TruncatedMessage(EOFError):
    """The server hung up in the middle of a message."""


class MalformedMessage(ValueError):
    """A line from the server that is not a JSON object."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class MessageTooLarge(ValueError):
    """A message longer than :data:`READ_LIMIT`."""


class _Protocol(asyncio.Protocol):
    """Splits the byte stream into lines and hands each to the connection."""

    def __init__(self, owner: Connection) -> None:
        self._owner = owner
        self._buffer = bytearray()
        self._scanned = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._owner._attach(self)

    def data_received(self, data: bytes) -> None:
        if not self._buffer and data.find(b"\n") == len(data) - 1:
            self._owner._on_line(data)  # the usual read: exactly one whole message
            return
        buffer = self._buffer
        buffer += data
        start = 0
        newline = buffer.find(b"\n", self._scanned)
        while newline >= 0:
            line = bytes(buffer[start:newline + 1])
            start = newline + 1
            if not self._owner._on_line(line):
                return
            newline = buffer.find(b"\n", start)
        del buffer[:start]
        self._scanned = len(buffer)
        if len(buffer) > READ_LIMIT:
            self._owner._fail(MessageTooLarge())

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is None:
            exc = TruncatedMessage() if self._buffer.strip() else EOFError()
        self._owner._fail(exc)


class Connection:
    """One QMP connection: connect, execute requests, receive events.

    ``execute`` returns the reply as QMP defines it (``{"return": ...}`` or
    ``{"error": {"class": ..., "desc": ...}}``) without the transport id.
    Events are buffered in arrival order; a :class:`~qmpshell.runner.pipeline.Runner`
    takes them with :meth:`take_events`, anyone else may iterate
    :meth:`events`.  Every failure is a ``ConnectError`` (``CommandTimeout``
    for ``timeout``), never anything else.

    ``direct_reads`` (for scripted runs, plain sockets only): right after
    sending, wait up to :data:`DIRECT_READ_SLICE` for the reply on the socket
    itself and feed it to the protocol, instead of taking two trips round the
    event loop; a replayed session file runs about 15% faster.  Anything
    slower falls back to the loop, so signals and timeouts still work.

    ``send(request, then=upcoming)``: ``upcoming()`` is called once the
    request is on its way (so its work overlaps the server's) and may return
    the request the caller will send next; that one is written as soon as
    this reply arrives, if it is a success, and the caller's next
    ``send`` of the same object only collects its reply.  After an error
    reply nothing is written early: the caller decides (``-e`` stops there).
    """

    def __init__(self, address: str, *, timeout: float | None = None, negotiate: bool = True,
                 tls: TLSOptions | None = None, log: MessageLog | None = None,
                 direct_reads: bool = False) -> None:
        self.address = address
        self.direct_reads = direct_reads
        self.timeout = timeout
        self.negotiate = negotiate
        self.tls = tls
        self.log = log
        self.greeting: dict[str, Any] | None = None
        self._protocol: _Protocol | None = None
        self._server: asyncio.AbstractServer | None = None
        self._accepted: asyncio.Future[None] | None = None
        self._greeting_waiter: asyncio.Future[dict[str, Any]] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Reply]] = {}
        self._follow: _FollowUp | None = None
        self._poller: Any = None
        self._direct_fd = -1
        self._seq = 0
        self._events: collections.deque[tuple[int, dict[str, Any]]] = (
            collections.deque(maxlen=EVENT_BACKLOG))
        self._arrived: asyncio.Event | None = None
        self._lost: BaseException | None = None
        self._closed = False

    # -- connecting ------------------------------------------------------
    async def connect(self) -> None:
        """Connect, await the greeting and negotiate (unless -N)."""
        target = parse_address(self.address)
        ctx = self._ssl_context(target)
        limit = self.timeout if self.timeout is not None else CONNECT_TIMEOUT
        loop = asyncio.get_running_loop()
        if self.negotiate:
            self._greeting_waiter = loop.create_future()
        try:
            async with asyncio.timeout(limit):
                if isinstance(target, tuple):
                    hostname = (self.tls.server_name or target[0]) if self.tls else None
                    await loop.create_connection(lambda: _Protocol(self), target[0], target[1],
                                                 ssl=ctx, server_hostname=hostname)
                else:
                    await loop.create_unix_connection(lambda: _Protocol(self), target)
                await self._handshake()
        except TimeoutError:
            self._drop()
            raise ConnectError(f"{self.address}: no {self._awaited()} within {limit:g} s "
                               "(is this a QMP socket? -N skips the greeting)") from None
        except (OSError, EOFError, ValueError) as exc:
            self._drop()
            raise ConnectError(f"{self.address}: {_connect_reason(exc)}") from None

    async def start_server(self) -> None:
        """Listen on the UNIX path ``address`` for QEMU to connect to (--spawn)."""
        loop = asyncio.get_running_loop()
        self._accepted = loop.create_future()
        if self.negotiate:
            self._greeting_waiter = loop.create_future()
        try:
            self._server = await loop.create_unix_server(lambda: _Protocol(self), self.address)
        except OSError as exc:
            raise ConnectError(f"{self.address}: {_connect_reason(exc)}") from None

    async def accept(self) -> None:
        """Wait for the peer after :meth:`start_server`, then greet and negotiate."""
        assert self._accepted is not None and self._server is not None
        try:
            await self._accepted
            self._server.close()
            await self._handshake()
        except (OSError, EOFError, ValueError) as exc:
            self._drop()
            raise ConnectError(f"{self.address}: {_connect_reason(exc)}") from None

    def _attach(self, protocol: _Protocol) -> None:
        if self._protocol is not None:  # a second peer on a --spawn socket
            assert protocol.transport is not None
            protocol.transport.close()
            return
        self._protocol = protocol
        if self._accepted is not None and not self._accepted.done():
            self._accepted.set_result(None)

    async def _handshake(self) -> None:
        if not self.negotiate:
            return
        assert self._greeting_waiter is not None
        greeting = await self._greeting_waiter
        if not isinstance(greeting.get("QMP"), dict):
            raise MalformedMessage("not a QMP greeting")
        self.greeting = greeting
        capabilities = greeting["QMP"].get("capabilities") or []
        request: dict[str, Any] = {"execute": "qmp_capabilities"}
        if "oob" in capabilities:
            request["arguments"] = {"enable": ["oob"]}
        try:
            reply = (await self._exchange(request)).message
        except ConnectError as exc:
            raise NegotiationFailed(str(exc)) from None
        if "return" not in reply:
            error = reply.get("error") or {}
            raise NegotiationFailed(str(error.get("desc", reply)))

    def _awaited(self) -> str:
        if not self.negotiate:
            return "connection"
        return "greeting" if self.greeting is None else "reply to qmp_capabilities"

    def _ssl_context(self, target: str | tuple[str, int]) -> ssl.SSLContext | None:
        if self.tls is None:
            return None
        if not isinstance(target, tuple):
            raise ConnectError(f"{self.address}: TLS needs a HOST:PORT address")
        try:
            return self.tls.context()
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(f"cannot load the TLS certificates: {exc}") from None

    @property
    def connected(self) -> bool:
        return self._protocol is not None and self._lost is None

    # -- commands --------------------------------------------------------
    async def execute(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send ``request`` and return its reply, without the transport id."""
        return (await self.send(request)).message

    async def send(self, request: dict[str, Any], *,
                   then: Callable[[], dict[str, Any] | None] | None = None) -> Reply:
        """Like :meth:`execute`, also telling where the reply arrived among
        events; ``then`` names the next request early (see the class doc)."""
        if self._lost is not None or self._protocol is None:
            raise ConnectError(f"connection lost: {self._reason()}")
        if self.timeout is None:
            return await self._exchange(request, then)
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(request, then)
        except TimeoutError:
            name = request.get("execute", request.get("exec-oob", "?"))
            raise CommandTimeout(f"no reply to {name} within {self.timeout:g} s") from None

    async def _exchange(self, request: dict[str, Any],
                        then: Callable[[], dict[str, Any] | None] | None = None) -> Reply:
        protocol = self._protocol
        assert protocol is not None and protocol.transport is not None
        follow, self._follow = self._follow, None
        if follow is not None and follow.request is request and follow.future is not None:
            request_id, future = follow.request_id, follow.future  # already on its way
        else:
            if follow is not None and follow.future is not None:
                # Written but not collected (the caller changed its mind): its
                # reply still lands on its own future, which then goes.
                follow.future.add_done_callback(self._forget(follow.request_id))
            request_id = next(self._ids)
            message = {**request, "id": request_id}
            future = asyncio.get_running_loop().create_future()
            self._pending[request_id] = future
            if self.log is not None:
                self.log.write(SENT, message)
            protocol.transport.write(json.dumps(message).encode() + b"\n")
        try:
            if then is not None:
                upcoming = then()
                if upcoming is not None and not future.done():
                    self._follow = _FollowUp(request_id, upcoming, next(self._ids))
            if self.direct_reads and not future.done():
                self._read_directly(protocol, future)
            return await future
        finally:
            self._pending.pop(request_id, None)

    def _forget(self, request_id: int) -> Callable[[asyncio.Future[Reply]], None]:
        def forget(_: asyncio.Future[Reply]) -> None:
            self._pending.pop(request_id, None)
        return forget

    def _release(self, follow: _FollowUp) -> None:
        """Write the follow-up request (its predecessor succeeded)."""
        protocol = self._protocol
        if protocol is None or protocol.transport is None or self._lost is not None:
            return
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[follow.request_id] = future
        follow.future = future
        if self.log is not None:
            self.log.write(SENT, follow.message)
        protocol.transport.write(follow.data)

    def _read_directly(self, protocol: _Protocol, future: asyncio.Future[Reply]) -> None:
        """Read the reply off the socket while it is on its way (see class doc)."""
        poll = self._direct_poll(protocol)
        if poll is None:
            return
        transport = protocol.transport
        assert transport is not None
        if transport.get_write_buffer_size():
            return  # the loop still has to send the request
        fd = self._direct_fd
        deadline = time.monotonic() + DIRECT_READ_SLICE
        while not future.done() and self._lost is None:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0 or not poll(remaining * 1000.0):
                    return
            except (OSError, ValueError):
                return
            try:
                data = os.read(fd, 262144)
            except BlockingIOError:
                continue
            except OSError:
                return  # the transport meets the same error and reports it
            if not data:
                return  # end of file: likewise
            protocol.data_received(data)

    def _direct_poll(self, protocol: _Protocol) -> Callable[[float], list[Any]] | None:
        """A poll of this connection's plain socket (None over TLS), made once."""
        if self._poller is None:
            transport = protocol.transport
            sock = transport.get_extra_info("socket") if transport is not None else None
            if sock is None or transport is None \
                    or transport.get_extra_info("sslcontext") is not None:
                self._poller = False
                return None
            self._direct_fd = sock.fileno()
            poller = select.poll()
            poller.register(self._direct_fd, select.POLLIN)
            self._poller = poller.poll
        return self._poller or None

    def _on_line(self, line: bytes) -> bool:
        """Route one received line; False when it broke the connection."""
        if not line.strip():
            return True
        try:
            message = json.loads(line)
        except ValueError:
            self._fail(MalformedMessage("malformed JSON"))
            return False
        if not isinstance(message, dict):
            self._fail(MalformedMessage("JSON that is not an object"))
            return False
        self._seq += 1
        if self.log is not None:
            self.log.write(RECEIVED, message)
        if "event" in message:
            self._add_event(message)
        elif self._greeting_waiter is not None and not self._greeting_waiter.done():
            self._greeting_waiter.set_result(message)
        else:
            self._on_reply(message)
        return True

    def _on_reply(self, message: dict[str, Any]) -> None:
        reply_id = message.pop("id", None)
        future = self._pending.get(reply_id) if isinstance(reply_id, int) else None
        if future is None and reply_id is None:
            # An error without id: QEMU could not parse the request it belongs to,
            # and requests are answered in order, so it is the oldest waiting one's.
            waiting = [i for i, f in self._pending.items() if not f.done()]
            future = self._pending[min(waiting)] if waiting else None
        if future is not None and not future.done():
            future.set_result(Reply(message, self._seq))
            follow = self._follow
            if follow is not None and follow.after == reply_id and follow.future is None \
                    and "return" in message:
                self._release(follow)

    def _fail(self, exc: BaseException) -> None:
        """The connection is gone: wake everyone waiting on it."""
        if self._lost is None:
            self._lost = exc
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.abort()
        error = ConnectError(f"connection lost: {self._reason()}")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        follow = self._follow
        if follow is not None and follow.future is not None and follow.future.done():
            follow.future.exception()  # retrieved: its caller may have stopped
        waiter = self._greeting_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
            waiter.exception()  # retrieved: connect() reports it, or nobody waits
        if self._arrived is not None:
            self._arrived.set()

    def _reason(self) -> str:
        if self._closed:
            return "the connection was closed"
        if self._lost is None:
            return "not connected"
        return _lost_reason(self._lost)

    async def lost_reason(self) -> str | None:
        """None while connected; otherwise why the connection is gone."""
        if self.connected:
            return None
        return self._reason()

    # -- events ----------------------------------------------------------
    def _wakeup(self) -> asyncio.Event:
        if self._arrived is None:
            self._arrived = asyncio.Event()
        return self._arrived

    def _add_event(self, event: dict[str, Any]) -> None:
        self._events.append((self._seq, event))
        self._wakeup().set()

    def take_events(self, before: int | None = None) -> list[dict[str, Any]]:
        """Remove and return buffered events, oldest first; with ``before``,
        only those that arrived before the message numbered ``before``."""
        taken = []
        while self._events and (before is None or self._events[0][0] < before):
            taken.append(self._events.popleft()[1])
        return taken

    async def wait_events(self, timeout: float | None = None) -> bool:
        """Wait until an event is buffered or the connection is gone.

        True when events are buffered; False at the timeout or when lost."""
        wakeup = self._wakeup()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self._events:
            if not self.connected:
                return False
            wakeup.clear()
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            try:
                await asyncio.wait_for(wakeup.wait(), remaining)
            except TimeoutError:
                return bool(self._events)
        return True

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Events in arrival order until the connection is gone."""
        while await self.wait_events():
            for event in self.take_events():
                yield event

    # -- closing ---------------------------------------------------------
    async def close(self) -> None:
        """Disconnect; nothing on the way out is the user's problem."""
        self._closed = True
        self._drop()
        if self._arrived is not None:
            self._arrived.set()

    def _drop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        if self._lost is None:
            self._lost = EOFError()
        for future in self._pending.values():
            if not future.done():
                future.cancel()


class NegotiationFailed(ValueError):
    """The server refused qmp_capabilities."""


def _connect_reason(exc: BaseException) -> str:
    """A sentence for why connecting failed."""
    if isinstance(exc, FileNotFoundError):
        return "no such socket (is QEMU running with -qmp unix:PATH,server=on?)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is QEMU listening there?)"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {exc.reason or exc}"
    if isinstance(exc, MalformedMessage):
        return f"did not understand the server's greeting ({exc.what})"
    if isinstance(exc, NegotiationFailed):
        return f"capabilities negotiation failed ({exc})"
    if isinstance(exc, MessageTooLarge):
        return _lost_reason(exc)
    if isinstance(exc, EOFError):
        return "the server closed the connection before greeting"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__


def _lost_reason(exc: BaseException) -> str:
    """A sentence for why an established connection went away."""
    if isinstance(exc, TruncatedMessage):
        return "the server closed the connection in the middle of a message"
    if isinstance(exc, EOFError):
        return "the server closed the connection"
    if isinstance(exc, MalformedMessage):
        return f"the server sent {exc.what}"
    if isinstance(exc, MessageTooLarge):
        return f"a message from the server is larger than {READ_LIMIT // 2**20} MiB"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__
