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


class HostileServer:
    def __init__(self, workdir: Path, *, greeting: bytes | None = None,
                 answer: Answer = ok, negotiate: bool = True) -> None:
        self.greeting = line(GREETING) if greeting is None else greeting
        self.answer = answer
        self.negotiate = negotiate
        self.path = workdir / "hostile.sock"
        self.address = str(self.path)
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.address)
        self._server.listen(4)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: list[socket.socket] = []
        self._sending = threading.Lock()  # a push and an answer never interleave

    def __enter__(self) -> HostileServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        for client in self._clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def push(self, data: bytes) -> None:
        """Send ``data`` now, unasked, to the newest client (events, a flood);
        returns once the socket took all of it."""
        with self._sending:
            self._clients[-1].sendall(data)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._clients.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            if self.greeting:
                conn.sendall(self.greeting)
            buffer = b""
            while not self._stop.is_set():
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data
                while b"\n" in buffer or (buffer.strip().endswith(b"}")
                                          and _complete(buffer)):
                    text, _, buffer = buffer.partition(b"\n")
                    if not text.strip():
                        continue
                    try:
                        request = json.loads(text)
                    except ValueError:
                        continue
                    if not isinstance(request, dict):
                        continue
                    if request.get("execute") == "qmp_capabilities" and self.negotiate:
                        answer: bytes | None = reply(request)
                    else:
                        answer = self.answer(request)
                    if answer:
                        with self._sending:
                            conn.sendall(answer)


def _complete(buffer: bytes) -> bool:
    try:
        json.loads(buffer)
    except ValueError:
        return False
    return True
