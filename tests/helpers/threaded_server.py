"""The part every fake server shares: a listening socket (a UNIX path, or
TCP on 127.0.0.1) that serves each client on a thread of its own, and a
teardown that hangs up on every client and joins every thread."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self


class ThreadedServer:
    """Subclasses say what a client gets in :meth:`_serve`; ``address`` is
    what a client connects to, ``connections`` how many did."""

    def __init__(self, unix_path: Path, *, tcp: bool = False) -> None:
        if tcp:
            self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._server.bind(("127.0.0.1", 0))
            self.port = int(self._server.getsockname()[1])
            self.address = f"127.0.0.1:{self.port}"
        else:
            self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._server.bind(str(unix_path))
            self.address = str(unix_path)
        self._server.listen(4)
        self.connections = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: list[socket.socket] = []

    def __enter__(self) -> Self:
        thread = threading.Thread(target=self._accept_loop, daemon=True)
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

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            self._clients.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError


WHITESPACE_AND_FF = " \t\r\n\ufffd"
"""Skipped between requests: a guest agent client sends a 0xFF byte (not
UTF-8) before a resynchronisation."""


def json_requests(conn: socket.socket) -> Iterator[dict[str, Any] | None]:
    """Requests as they arrive (None for one that is not a JSON object): QMP
    clients need not end them with a newline, and may send several at once."""
    decoder = json.JSONDecoder()
    buffer = ""
    while chunk := conn.recv(65536):
        buffer += chunk.decode("utf-8", "replace")
        while buffer := buffer.lstrip(WHITESPACE_AND_FF):
            try:
                request, end = decoder.raw_decode(buffer)
            except ValueError:
                if "\n" not in buffer:
                    break  # wait for the rest
                buffer = buffer.split("\n", 1)[1]
                yield None
                continue
            buffer = buffer[end:]
            yield request if isinstance(request, dict) else None
