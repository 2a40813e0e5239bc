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
import threading
from pathlib import Path
from typing import Any


class FakeAgent:
    """A guest agent on a UNIX socket (or TCP, ``tcp=True``) at ``address``;
    ``received`` collects every request, ``replies`` maps command names to
    return values (``{}`` for the others)."""

    def __init__(self, workdir: Path, *, late: frozenset[str] = frozenset(),
                 replies: dict[str, Any] | None = None, tcp: bool = False) -> None:
        self.late = set(late)
        self.replies = replies or {}
        self.received: list[dict[str, Any]] = []
        if tcp:  # an agent's socket forwarded over TCP
            self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._server.bind(("127.0.0.1", 0))
            self.address = f"127.0.0.1:{self._server.getsockname()[1]}"
        else:
            self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._server.bind(str(workdir / "agent.sock"))
            self.address = str(workdir / "agent.sock")
        self._server.listen(2)
        self._held: list[bytes] = []
        self._threads: list[threading.Thread] = []
        self._clients: list[socket.socket] = []

    def __enter__(self) -> FakeAgent:
        thread = threading.Thread(target=self._accept_loop, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        for conn in self._clients:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._clients.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

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
