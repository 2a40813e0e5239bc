"""The guest agent's protocol: QMP without a greeting, plus resynchronisation.

``qemu-ga`` speaks QMP's framing but never greets, and a reply lost to a
client-side timeout would otherwise be read as the answer to the next
request.  So, on connect and after every timeout, the client sends a 0xFF
byte (the agent drops any half-read request) and ``guest-sync-delimited``
with a fresh number; the agent answers with a 0xFF sentinel byte and then
that number.  Everything before the sentinel is stale and discarded unread,
as the agent's documentation asks (``qga/qapi-schema.json``).

:class:`AgentProtocol` is :class:`~qmpshell.wire.protocol.QmpProtocol` with
that discard step; the drivers use it as they use the plain one.
"""

from __future__ import annotations

import random
from typing import Any

from qmpshell.wire.protocol import Observer, Outgoing, QmpProtocol

SENTINEL = b"\xff"
SYNC_COMMAND = "guest-sync-delimited"


class AgentProtocol(QmpProtocol):
    """QMP as a guest agent speaks it (see the module doc)."""

    def __init__(self, *, observer: Observer | None = None, **limits: Any) -> None:
        super().__init__(negotiate=False, observer=observer, **limits)
        self.discarding = False
        """True from a resync request until the agent's sentinel byte arrives."""

    def resync(self, token: int | None = None) -> tuple[Outgoing, int]:
        """The bytes that resynchronise the stream (a 0xFF, then
        ``guest-sync-delimited``), and the number its reply must return.
        Every reply still awaited is abandoned and input is discarded up to
        the agent's sentinel."""
        if token is None:
            token = new_token()
        for request_id in list(self._pending):
            self.abandon(request_id)
        self._buffer.clear()
        self._scanned = 0
        self.discarding = True
        outgoing = self.send({"execute": SYNC_COMMAND, "arguments": {"id": token}})
        return Outgoing(outgoing.request_id, SENTINEL + outgoing.data), token

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


def new_token() -> int:
    """A number no stale reply will carry (the agent's ids are 64-bit ints)."""
    return random.randint(1, 2**31 - 1)  # noqa: S311 - not a secret, only unlikely


def sync_matches(reply: dict[str, Any], token: int) -> bool:
    """Whether ``reply`` is the agent's answer to the resync with ``token``."""
    return reply.get("return") == token
