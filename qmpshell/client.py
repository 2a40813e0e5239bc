"""The QMP connection, adapted from QEMU's own ``qemu.qmp`` library.

``qemu.qmp`` does the protocol (greeting, negotiation, ids, routing); this
module adapts it to the shell: addresses as the user types them, timeouts,
the message log, events kept in arrival order relative to replies, and every
failure turned into one :class:`~qmpshell.errors.ConnectError` with a
sentence a person can act on.  Transport ids never leave this module.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from qemu.qmp import ConnectError as LibConnectError
from qemu.qmp import QMPClient
from qemu.qmp.message import DeserializationError, Message, UnexpectedTypeError
from qemu.qmp.protocol import Runstate, StateError
from qemu.qmp.qmp_client import ExecInterruptedError, GreetingError, NegotiationError

from qmpshell.errors import CommandTimeout, ConnectError
from qmpshell.logfile import RECEIVED, SENT, MessageLog

# The library logs every failure at ERROR level as well as raising it; the
# shell reports the raised error itself, so keep the library quiet.
logging.getLogger("qemu.qmp").addHandler(logging.NullHandler())
logging.getLogger("qemu.qmp").propagate = False

READ_LIMIT = 256 * 1024 * 1024
"""Largest message accepted.  The library's 10 MiB default cuts off big
replies (a 16 MiB guest-file-read, a huge query-qmp-schema); this is only a
ceiling, no buffer of this size is allocated."""

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the connection and greeting when --timeout is unset,
so that a server that never greets cannot hang a script."""

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


@dataclass(frozen=True)
class Reply:
    """A reply without its transport id, with its place among the events."""

    message: dict[str, Any]
    seq: int
    """Arrival number; events with a smaller one arrived before it."""


class TruncatedMessage(EOFError):
    """The server hung up in the middle of a message."""


class _Client(QMPClient):
    """QMPClient with hooks that number, log and route what arrives."""

    def __init__(self, owner: Connection) -> None:
        super().__init__(None, readbuflen=READ_LIMIT)
        self._owner = owner

    def _cb_outbound(self, msg: Message) -> Message:
        if self._owner.log is not None:
            self._owner.log.write(SENT, dict(msg))
        return msg

    def _cb_inbound(self, msg: Message) -> Message:
        self._owner._seq += 1
        if self._owner.log is not None:
            self._owner.log.write(RECEIVED, dict(msg))
        return msg

    async def _on_message(self, msg: Message) -> None:
        if "event" in msg:
            self._owner._add_event(dict(msg))
            return
        reply_id = msg.get("id")
        if isinstance(reply_id, str):
            self._owner._reply_seq[reply_id] = self._owner._seq
        await super()._on_message(msg)

    async def _readline(self) -> bytes:
        line = await super()._readline()
        if not line.endswith(b"\n"):
            raise TruncatedMessage
        return line

    def _set_state(self, state: Runstate) -> None:
        super()._set_state(state)
        if state in (Runstate.DISCONNECTING, Runstate.IDLE):
            self._owner._wakeup().set()


class Connection:
    """One QMP connection: connect, execute requests, receive events.

    ``execute`` returns the reply as QMP defines it (``{"return": ...}`` or
    ``{"error": {"class": ..., "desc": ...}}``) without the transport id.
    Events are buffered in arrival order; a :class:`~qmpshell.session.Runner`
    takes them with :meth:`take_events`, anyone else may iterate
    :meth:`events`.  Every failure is a ``ConnectError`` (``CommandTimeout``
    for ``timeout``), never a library exception.
    """

    def __init__(self, address: str, *, timeout: float | None = None, negotiate: bool = True,
                 tls: TLSOptions | None = None, log: MessageLog | None = None) -> None:
        self.address = address
        self.timeout = timeout
        self.negotiate = negotiate
        self.tls = tls
        self.log = log
        self.greeting: dict[str, Any] | None = None
        self._client = _Client(self)
        self._client.await_greeting = negotiate
        self._client.negotiate = negotiate
        self._seq = 0
        self._reply_seq: dict[str, int] = {}
        self._events: collections.deque[tuple[int, dict[str, Any]]] = (
            collections.deque(maxlen=EVENT_BACKLOG))
        self._arrived: asyncio.Event | None = None
        self._lost_reason: str | None = None

    # -- connecting ------------------------------------------------------
    async def connect(self) -> None:
        """Connect, await the greeting and negotiate (unless -N)."""
        target = parse_address(self.address)
        ctx = self._ssl_context(target)
        limit = self.timeout if self.timeout is not None else CONNECT_TIMEOUT
        try:
            await asyncio.wait_for(self._client.connect(target, ssl=ctx), limit)
        except TimeoutError:
            await self._quiet_disconnect()
            what = "connection" if not self.negotiate else (
                "greeting" if self._client.greeting is None else "reply to qmp_capabilities")
            raise ConnectError(f"{self.address}: no {what} within {limit:g} s "
                               "(is this a QMP socket? -N skips the greeting)") from None
        except LibConnectError as exc:
            raise ConnectError(f"{self.address}: {_connect_reason(exc.exc)}") from None
        self._store_greeting()

    async def start_server(self) -> None:
        """Listen on the UNIX path ``address`` for QEMU to connect to (--spawn)."""
        try:
            await self._client.start_server(self.address)
        except LibConnectError as exc:
            raise ConnectError(f"{self.address}: {_connect_reason(exc.exc)}") from None

    async def accept(self) -> None:
        """Accept the connection after :meth:`start_server`, greet and negotiate."""
        try:
            await self._client.accept()
        except LibConnectError as exc:
            raise ConnectError(f"{self.address}: {_connect_reason(exc.exc)}") from None
        self._store_greeting()

    def _store_greeting(self) -> None:
        greeting = self._client.greeting
        self.greeting = greeting._asdict() if greeting is not None else None

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
        return self._client.runstate == Runstate.RUNNING

    # -- commands --------------------------------------------------------
    async def execute(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send ``request`` and return its reply, without the transport id."""
        return (await self.send(request)).message

    async def send(self, request: dict[str, Any]) -> Reply:
        """Like :meth:`execute`, also telling where the reply arrived among events."""
        name = request.get("execute", request.get("exec-oob", "?"))
        try:
            raw = await asyncio.wait_for(self._client._raw(request, assign_id=True),
                                         self.timeout)
        except TimeoutError:
            raise CommandTimeout(
                f"no reply to {name} within {self.timeout:g} s") from None
        except (ExecInterruptedError, StateError):
            raise ConnectError(f"connection lost: {await self._lost()}") from None
        reply = dict(raw)
        reply_id = reply.pop("id", None)
        seq = self._reply_seq.pop(reply_id, self._seq) if isinstance(reply_id, str) else self._seq
        return Reply(reply, seq)

    async def _lost(self) -> str:
        """Why the connection went away (asks the library once, then remembers)."""
        if self._lost_reason is None:
            self._lost_reason = "the server closed the connection"
            try:
                await self._client.disconnect()
            except Exception as exc:  # described, not raised
                self._lost_reason = _lost_reason(exc)
        return self._lost_reason

    async def lost_reason(self) -> str | None:
        """None while connected; otherwise why the connection is gone."""
        if self.connected:
            return None
        return await self._lost()

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
        """Disconnect; errors on the way out are not the user's problem."""
        await self._quiet_disconnect()
        if self._arrived is not None:
            self._arrived.set()

    async def _quiet_disconnect(self) -> None:
        with contextlib.suppress(Exception):  # it is being dropped anyway
            await self._client.disconnect()


def _connect_reason(exc: BaseException) -> str:
    """A sentence for why connecting failed, from the library's root cause."""
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
    if isinstance(exc, GreetingError):
        return f"did not understand the server's greeting ({_cause(exc.exc)})"
    if isinstance(exc, NegotiationError):
        return f"capabilities negotiation failed ({_cause(exc.exc)})"
    if isinstance(exc, EOFError):
        return "the server closed the connection before greeting"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return _cause(exc)


def _lost_reason(exc: BaseException) -> str:
    """A sentence for why an established connection went away."""
    if isinstance(exc, TruncatedMessage):
        return "the server closed the connection in the middle of a message"
    if isinstance(exc, EOFError):
        return "the server closed the connection"
    if isinstance(exc, DeserializationError):
        return "the server sent malformed JSON"
    if isinstance(exc, UnexpectedTypeError):
        return "the server sent JSON that is not an object"
    if isinstance(exc, ValueError | asyncio.LimitOverrunError):
        return f"a message from the server is larger than {READ_LIMIT // 2**20} MiB"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return _cause(exc)


def _cause(exc: BaseException) -> str:
    if isinstance(exc, DeserializationError):
        return "malformed JSON"
    if isinstance(exc, UnexpectedTypeError):
        return "not a JSON object"
    if isinstance(exc, EOFError):
        return "connection closed"
    if isinstance(exc, AssertionError):
        return "unexpected reply"
    if isinstance(exc, KeyError):
        return f"missing member {exc}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
