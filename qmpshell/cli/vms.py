"""Opening every VM a run names: ``[NAME=]ADDRESS ...`` and ``--domain``.

The first opened is the current VM; a failure closes what was opened
before it.  libvirt (``qmpshell.wire.libvirt``, and libvirt-python through
it) is imported only when ``--domain`` is given.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from qmpshell.runner.fleet import default_name
from qmpshell.settings import Settings

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from qmpshell.wire.connection import QmpConnection
    from qmpshell.wire.logfile import MessageLog

Named = tuple[str, "QmpConnection", bool]
"""(name, connection, whether the user chose the name)."""


def open_domains(settings: Settings, log: MessageLog | None,
                 timeout: float | None) -> list[Named]:
    """The libvirt guests of ``--domain`` (none without it)."""
    if not settings.domains:
        return []
    from qmpshell.wire.libvirt import open_domains as open_libvirt

    conns = open_libvirt(settings.libvirt_uri, list(settings.domains), timeout=timeout,
                         agent=settings.agent,
                         log=log.write if log is not None else None)
    return [(conn.name, conn, False) for conn in conns]


def open_blocking(settings: Settings, make: Callable[[str], QmpConnection],
                  log: MessageLog | None, timeout: float | None) -> list[Named]:
    """Connect to every address, then every domain (scripts)."""
    opened: list[Named] = []
    try:
        for name, address in settings.addresses:
            conn = make(address)
            conn.connect()  # type: ignore[attr-defined]
            opened.append((name or default_name(address), conn, name is not None))
        opened += open_domains(settings, log, timeout)
    except BaseException:
        close_all(opened)
        raise
    return opened


async def open_async(settings: Settings, make: Callable[[str], QmpConnection],
                     log: MessageLog | None, timeout: float | None) -> list[Named]:
    """Connect to every address, then every domain (the prompt)."""
    import asyncio

    opened: list[Named] = []
    try:
        for name, address in settings.addresses:
            conn = make(address)
            connect: Callable[[], Awaitable[None]] = conn.connect  # type: ignore[attr-defined]
            await connect()
            opened.append((name or default_name(address), conn, name is not None))
        opened += await asyncio.get_running_loop().run_in_executor(
            None, open_domains, settings, log, timeout)
    except BaseException:
        close_all(opened)
        raise
    return opened


def close_all(opened: list[Named]) -> None:
    for _, conn, _ in opened:
        with contextlib.suppress(Exception):
            conn.close()
