"""A scripted guest agent, for what a real qemu-ga will not do on demand:
hold back a reply until the client has given up on it.

It speaks as qemu-ga does: no greeting; a 0xFF byte from the client resets
its reader; ``guest-sync-delimited`` is answered with a 0xFF sentinel byte
and then the number it was given.  A command named in ``late`` is answered
only when the next request arrives (after the client timed out), so that
reply is stale, in the stream, just before the next sync's sentinel."""

from __future__ import annotations

import contextlib
import json
import socket
from pathlib import Path
from typing import Any

from helpers.threaded_server import ThreadedServer


class FakeAgent(ThreadedServer):
    """A guest agent on a UNIX socket (or TCP, ``tcp=True``) at ``address``;
    ``received`` collects every request, ``replies`` maps command names to
    return values (``{}`` for the others)."""

    def __init__(self, workdir: Path, *, late: frozenset[str] = frozenset(),
                 replies: dict[str, Any] | None = None, tcp: bool = False) -> None:
        self.late = set(late)
        self.replies = replies or {}
        self.received: list[dict[str, Any]] = []
        super().__init__(workdir / "agent.sock", tcp=tcp)  # tcp: a forwarded agent socket
        self._held: list[bytes] = []

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with contextlib.suppress(OSError):
            while chunk := conn.recv(65536):
                buffer += chunk
                buffer = buffer.rpartition(b"\xff")[2] if b"\xff" in buffer else buffer
                while b"\n" in buffer:
                    line, _, buffer = buffer.partition(b"\n")
                    if line.strip():
                        self._answer(conn, json.loads(line))

    def _answer(self, conn: socket.socket, request: dict[str, Any]) -> None:
        self.received.append(request)
        name = request.get("execute")
        for stale in self._held:  # the reply the client gave up on comes now
            conn.sendall(stale)
        self._held.clear()
        if name == "guest-sync-delimited":
            reply = {"return": request["arguments"]["id"]}
            conn.sendall(b"\xff" + self._encode(reply, request))
            return
        reply = {"return": self.replies.get(name, {})}
        if name in self.late:
            self.late.discard(name)
            self._held.append(self._encode(reply, request))
            return
        conn.sendall(self._encode(reply, request))

    @staticmethod
    def _encode(reply: dict[str, Any], request: dict[str, Any]) -> bytes:
        if "id" in request:
            reply = {**reply, "id": request["id"]}
        return json.dumps(reply).encode() + b"\n"
