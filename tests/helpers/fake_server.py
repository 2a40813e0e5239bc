"""A scripted QMP server for the faults a real QEMU will not produce on demand:
no greeting, garbage, replies dribbled a byte at a time, huge replies, a socket
closed mid-reply, a server that never answers.

It runs in a thread with plain blocking sockets, so the shell under test can
be a subprocess.  Each command name maps to a behaviour: a function that gets
the connected socket and the request and writes whatever it likes.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.threaded_server import ThreadedServer, json_requests

GREETING = {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7},
                                "package": "fake"}, "capabilities": ["oob"]}}
OLD_GREETING = {"QMP": {"version": {"qemu": {"micro": 0, "minor": 12, "major": 2},
                                    "package": "fake"}, "capabilities": ["oob"]}}
"""QEMU 2.12, which the shell sends an id with every request (QEMU 3.0 and
later get none, their replies come in order)."""

Behaviour = Callable[[socket.socket, dict[str, Any]], None]


def send(sock: socket.socket, message: Any) -> None:
    sock.sendall(json.dumps(message).encode() + b"\r\n")


def answer(value: Any = None) -> Behaviour:
    """Reply normally with ``{"return": value}`` (an empty object by default)."""
    def behave(sock: socket.socket, request: dict[str, Any]) -> None:
        send(sock, _with_id({"return": {} if value is None else value}, request))
    return behave


def garbage(sock: socket.socket, request: dict[str, Any]) -> None:
    sock.sendall(b"{this is not json\r\n")


def bytewise(sock: socket.socket, request: dict[str, Any]) -> None:
    data = json.dumps(_with_id({"return": {"status": "running", "running": True}},
                               request)).encode() + b"\r\n"
    if sock.family != socket.AF_UNIX:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(data)):
        sock.sendall(data[i:i + 1])
        time.sleep(0.0005)


def huge(size: int) -> Behaviour:
    """Reply with a string of ``size`` bytes: ``{"return": "xxx..."}``."""
    def behave(sock: socket.socket, request: dict[str, Any]) -> None:
        send(sock, _with_id({"return": "x" * size}, request))
    return behave


def close_mid_reply(sock: socket.socket, request: dict[str, Any]) -> None:
    data = json.dumps(_with_id({"return": {"status": "running"}}, request)).encode()
    sock.sendall(data[: len(data) // 2])
    raise ConnectionAbortedError  # the handler closes the socket


def late(seconds: float, value: Any) -> Behaviour:
    """Reply ``{"return": value}`` after ``seconds``; like QEMU, answer
    nothing else meanwhile."""
    def behave(sock: socket.socket, request: dict[str, Any]) -> None:
        time.sleep(seconds)
        send(sock, _with_id({"return": value}, request))
    return behave


def never(sock: socket.socket, request: dict[str, Any]) -> None:
    """Read the request, answer nothing."""


def deep(levels: int) -> Behaviour:
    """Reply with arrays nested ``levels`` deep."""
    def behave(sock: socket.socket, request: dict[str, Any]) -> None:
        body = "[" * levels + "]" * levels
        sock.sendall(b'{"return": %s, "id": %s}\r\n'
                     % (body.encode(), json.dumps(request.get("id")).encode()))
    return behave


def wrong_id(sock: socket.socket, request: dict[str, Any]) -> None:
    """Answer with an id no request has (a string, then a stranger number)."""
    send(sock, {"return": {}, "id": str(request.get("id"))})
    send(sock, {"return": {}, "id": 424242})


def _with_id(reply: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    if "id" in request:
        return {**reply, "id": request["id"]}
    return reply


class FakeQMP(ThreadedServer):
    """A QMP server on a UNIX socket (``path``) or on TCP (``tcp=True``: ``port``).

    ``greeting``: 'normal', 'none' (answers commands right away, as the guest
    agent does), 'silent' (accepts and says nothing), 'close' (hangs up at
    once) or 'garbage'; or the greeting itself, as an object to send.
    ``received`` collects every request."""

    def __init__(self, workdir: Path, *, greeting: str | dict[str, Any] = "normal",
                 behaviours: dict[str, Behaviour] | None = None, tcp: bool = False,
                 tls: ssl.SSLContext | None = None) -> None:
        self.greeting = greeting
        self.tls = tls
        self.behaviours = behaviours or {}
        self.received: list[dict[str, Any]] = []
        self.path = workdir / "fake.sock"
        super().__init__(self.path, tcp=tcp)

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            if not self._greet(conn):
                return
            for request in json_requests(conn):
                if request is None:
                    send(conn, {"error": {"class": "GenericError", "desc": "bad JSON"}})
                    continue
                self.received.append(request)
                name = request.get("execute", "")
                if name == "qmp_capabilities":
                    send(conn, _with_id({"return": {}}, request))
                    continue
                self.behaviours.get(name, answer())(conn, request)
        except (OSError, ssl.SSLError):
            pass
        finally:
            if self.greeting != "silent" or self._stop.is_set():
                conn.close()

    def _greet(self, conn: socket.socket) -> bool:
        if isinstance(self.greeting, dict):
            send(conn, self.greeting)
        elif self.greeting == "normal":
            send(conn, GREETING)
        elif self.greeting == "garbage":
            conn.sendall(b"Welcome to the machine!\r\n")
        elif self.greeting == "close":
            conn.close()
            return False
        elif self.greeting == "silent":
            self._stop.wait()
            return False
        return True
