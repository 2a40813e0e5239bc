"""A hostile QMP server for one test case: it sends exactly the bytes a case
says, as a buggy or malicious QEMU or guest agent would (escape sequences,
deep JSON, odd greetings, floods, stalls), on a UNIX socket in a thread.

``HostileServer(workdir, greeting=b'...', answer=fn)``: ``greeting`` is sent
on connect (None: nothing); ``answer(request)`` returns the bytes to send
for each request after ``qmp_capabilities`` (None: never answer).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.threaded_server import ThreadedServer, json_requests

GREETING = {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7},
                                "package": "hostile"}, "capabilities": []}}

Answer = Callable[[dict[str, Any]], "bytes | None"]


def line(message: Any) -> bytes:
    return json.dumps(message).encode() + b"\r\n"


def reply(request: dict[str, Any], value: Any = None, **extra: Any) -> bytes:
    """A normal reply to ``request``, with its id."""
    message: dict[str, Any] = {"return": {} if value is None else value, **extra}
    if "id" in request:
        message["id"] = request["id"]
    return line(message)


def ok(request: dict[str, Any]) -> bytes:
    return reply(request)


class HostileServer(ThreadedServer):
    def __init__(self, workdir: Path, *, greeting: bytes | None = None,
                 answer: Answer = ok, negotiate: bool = True) -> None:
        self.greeting = line(GREETING) if greeting is None else greeting
        self.answer = answer
        self.negotiate = negotiate
        self.path = workdir / "hostile.sock"
        super().__init__(self.path)
        self._sending = threading.Lock()  # a push and an answer never interleave

    def push(self, data: bytes) -> None:
        """Send ``data`` now, unasked, to the newest client (events, a flood);
        returns once the socket took all of it."""
        with self._sending:
            self._clients[-1].sendall(data)

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            if self.greeting:
                conn.sendall(self.greeting)
            for request in json_requests(conn):
                if self._stop.is_set():
                    return
                if request is not None:
                    if request.get("execute") == "qmp_capabilities" and self.negotiate:
                        answer: bytes | None = reply(request)
                    else:
                        answer = self.answer(request)
                    if answer:
                        with self._sending:
                            conn.sendall(answer)

