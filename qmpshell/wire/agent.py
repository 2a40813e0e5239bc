"""The guest agent's protocol: QMP without a greeting, plus resynchronisation.

``qemu-ga`` speaks QMP's framing but never greets, and a reply lost to a
client-side timeout would otherwise be read as the answer to the next
request.  So, on connect and after every timeout, the client sends a 0xFF
byte (the agent drops any half-read request) and ``guest-sync-delimited``
with a fresh number; the agent answers with a 0xFF sentinel byte and then
that number.  Everything before the sentinel is stale and discarded unread,
as the agent's documentation asks (``qga/qapi-schema.json``).

:class:`AgentProtocol` is :class:`~qmpshell.wire.protocol.QmpProtocol` with
that discard step; the drivers use it as they use the plain one, and
:class:`AgentConnection` resynchronises on connect and after a timeout.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from qmpshell.errors import CommandTimeout, ConnectError
from qmpshell.wire.connection import Interrupted, QmpConnection, Reply
from qmpshell.wire.protocol import Observer, Outgoing, QmpProtocol

SENTINEL = b"\xff"
SYNC_COMMAND = "guest-sync-delimited"


class AgentProtocol(QmpProtocol):
    """QMP as a guest agent speaks it (see the module doc)."""

    def __init__(self, *, observer: Observer | None = None, **limits: Any) -> None:
        super().__init__(negotiate=False, observer=observer, **limits)
        self.discarding = False
        """True from a resync request until the agent's sentinel byte arrives."""

    def send(self, request: dict[str, Any], head: str | None = None) -> Outgoing:
        """As :meth:`QmpProtocol.send`; for ``guest-sync-delimited`` the bytes
        start with a 0xFF, every reply still awaited is abandoned, and input
        is discarded up to the agent's sentinel.  So a driver resynchronises
        by executing :func:`sync_request` like any other request."""
        if request.get("execute") != SYNC_COMMAND:
            return super().send(request, head)
        for request_id in list(self._pending):
            self.abandon(request_id)
        self._buffer.clear()
        self._scanned = 0
        self.discarding = True
        outgoing = super().send(request)
        return Outgoing(outgoing.request_id, SENTINEL + outgoing.data)

    def receive_data(self, data: bytes) -> None:
        if self.discarding and data:
            cut = data.find(SENTINEL)
            if cut < 0:
                return
            self.discarding = False
            data = data[cut + 1:]
            if not data:
                return
        super().receive_data(data)


def sync_request(token: int) -> dict[str, Any]:
    """The request that resynchronises with ``token``."""
    return {"execute": SYNC_COMMAND, "arguments": {"id": token}}


def new_token() -> int:
    """A number no stale reply will carry (the agent's ids are 64-bit ints)."""
    return int.from_bytes(os.urandom(4)) % (2**31 - 1) + 1


def sync_matches(reply: dict[str, Any], token: int) -> bool:
    """Whether ``reply`` is the agent's answer to the resync with ``token``."""
    return reply.get("return") == token


SYNC_TIMEOUT = 10.0
"""Seconds to wait for the agent's answer to a resync when --timeout is unset."""


class AgentConnection:
    """A :class:`~qmpshell.wire.connection.QmpConnection` to a guest agent:
    wraps a driver built with :class:`AgentProtocol` and resynchronises it
    (:meth:`sync`) before the first request and before the first request
    after one whose reply was lost to a timeout."""

    def __init__(self, inner: QmpConnection, *, sync_timeout: float | None = None) -> None:
        self.inner = inner
        self.sync_timeout = sync_timeout or SYNC_TIMEOUT
        self.in_sync = False

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def greeting(self) -> dict[str, Any] | None:
        return None

    @property
    def connected(self) -> bool:
        return self.inner.connected

    def sync(self) -> None:
        """Resynchronise now; ConnectError if the agent does not answer in time."""
        token = new_token()
        try:
            reply = self.inner.execute(sync_request(token), timeout=self.sync_timeout)
        except CommandTimeout:
            raise ConnectError(f"{self.name}: the guest agent did not answer "
                               f"guest-sync-delimited within {self.sync_timeout:g} s "
                               "(is this a guest agent's socket?)") from None
        if not sync_matches(reply.message, token):
            raise ConnectError(f"{self.name}: the guest agent answered guest-sync-delimited "
                               f"with {reply.message!r}, not {token}")
        self.in_sync = True

    def execute(self, request: dict[str, Any], timeout: float | None = None) -> Reply:
        if not self.in_sync:
            self.sync()
        try:
            return self.inner.execute(request, timeout)
        except (CommandTimeout, Interrupted):
            self.in_sync = False  # its reply may still come: resync first next time
            raise

    def take_events(self, before: int | None = None) -> list[dict[str, Any]]:
        return self.inner.take_events(before)

    def wait_events(self, timeout: float | None = None) -> bool:
        return self.inner.wait_events(timeout)

    def lost_reason(self) -> str | None:
        return self.inner.lost_reason()

    def interrupt(self) -> None:
        self.inner.interrupt()

    def watch(self, callback: Callable[[], None] | None) -> None:
        """As the asyncio driver's ``watch`` (the prompt hears of a lost
        connection); nothing for a driver without one."""
        watch = getattr(self.inner, "watch", None)
        if watch is not None:
            watch(callback)

    def close(self) -> None:
        self.inner.close()
