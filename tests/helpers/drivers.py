"""Both connection drivers behind one synchronous face, for tests that must
pass against each: the blocking driver as scripts use it, and the asyncio
driver as the prompt uses it (its loop in a thread of its own, the test
calling from another, as the prompt's worker thread does)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from qmpshell.wire.aio import AsyncConnection
from qmpshell.wire.blocking import BlockingConnection
from qmpshell.wire.connection import QmpConnection

DRIVERS = ("blocking", "aio")


class Connect(Protocol):
    def __call__(self, address: str, **options: Any) -> QmpConnection: ...


@contextmanager
def loop_thread() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a thread of its own, as the prompt's is;
    stopped and closed at the end."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="loop", daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@contextmanager
def driver(name: str) -> Iterator[Connect]:
    """A function that connects with driver ``name``; every connection it
    made is closed (and the loop stopped) at the end."""
    made: list[QmpConnection] = []
    if name == "blocking":
        def connect_blocking(address: str, **options: Any) -> QmpConnection:
            conn = BlockingConnection(address, **options)
            made.append(conn)
            conn.connect()
            return conn
        try:
            yield connect_blocking
        finally:
            for conn in made:
                conn.close()
        return
    with loop_thread() as loop:
        def connect_aio(address: str, **options: Any) -> QmpConnection:
            conn = AsyncConnection(address, **options)
            made.append(conn)
            asyncio.run_coroutine_threadsafe(conn.connect(), loop).result(60)
            return conn
        try:
            yield connect_aio
        finally:
            for conn in made:
                conn.close()
