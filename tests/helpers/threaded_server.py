"""The part every fake server shares: a listening socket (a UNIX path, or
TCP on 127.0.0.1) that serves each client on a thread of its own, and a
teardown that hangs up on every client and joins every thread."""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path
from typing import Self


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
