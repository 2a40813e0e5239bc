"""``--spawn``: a throwaway QEMU with a private QMP socket, gone with the shell.

The shell listens on a socket in a fresh temp dir and QEMU connects to it
(``-qmp unix:PATH``), so there is no polling for a socket to appear and no
other process can grab it.  QEMU lives in its own session (a Ctrl-C at the
terminal reaches the shell, which shuts QEMU down in order) and dies with
the shell even if the shell is killed outright (PR_SET_PDEATHSIG on Linux).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qmpshell.errors import ConnectError, QmpShellError
from qmpshell.wire.client import Connection

DEFAULT_ARGS = ("-machine", "none", "-nodefaults", "-display", "none")
START_TIMEOUT = 30.0
QUIT_TIMEOUT = 5.0


class SpawnError(ConnectError):
    """QEMU could not be started (exit status 3, like any failed connection)."""


def missing_qemu_message(binary: str) -> str:
    return (f"{binary} not found. Install QEMU (Debian/Ubuntu: apt-get install "
            "qemu-system-x86 qemu-utils; Fedora: dnf install qemu-system-x86 qemu-img; "
            "Arch: pacman -S qemu-full) or set $QEMU to a QEMU binary.")


class SpawnedQemu:
    """A QEMU started for this shell; :meth:`stop` ends it (quit, then kill)."""

    def __init__(self, binary: str, args: Sequence[str] = ()) -> None:
        self.binary = binary
        self.args = tuple(args) or DEFAULT_ARGS
        self.workdir = Path(tempfile.mkdtemp(prefix="qmpshell-"))
        self.socket_path = self.workdir / "qmp.sock"
        self.log_path = self.workdir / "qemu.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.connection: Connection | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    async def start(self, make_connection: Callable[[str], Connection]) -> Connection:
        """Start QEMU and return the connection it made to us."""
        path = shutil.which(self.binary)
        if path is None:
            raise SpawnError(missing_qemu_message(self.binary))
        conn = make_connection(str(self.socket_path))
        await conn.start_server()
        self.connection = conn
        command = [path, *self.args, "-qmp", f"unix:{self.socket_path}"]
        with open(self.log_path, "wb") as log:
            try:
                self.proc = await asyncio.create_subprocess_exec(
                    *command, stdin=asyncio.subprocess.DEVNULL, stdout=log,
                    stderr=asyncio.subprocess.STDOUT, start_new_session=True,
                    preexec_fn=_die_with_parent())
            except OSError as exc:
                raise SpawnError(f"cannot start {self.binary}: {exc.strerror}") from None
        await self._accept(conn)
        return conn

    async def _accept(self, conn: Connection) -> None:
        assert self.proc is not None
        accepting = asyncio.ensure_future(conn.accept())
        exited = asyncio.ensure_future(self.proc.wait())
        try:
            done, _ = await asyncio.wait({accepting, exited}, timeout=START_TIMEOUT,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            exited.cancel()
            if not accepting.done():
                accepting.cancel()
                with contextlib.suppress(BaseException):
                    await accepting
        if accepting in done:
            accepting.result()  # ConnectError if the greeting went wrong
            return
        if exited in done:
            raise SpawnError(f"{self.binary} exited with status {self.proc.returncode}: "
                             f"{self._log_tail()}")
        raise SpawnError(f"{self.binary} did not connect within {START_TIMEOUT:g} s")

    def _log_tail(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip()
        except OSError:
            return "(no output)"
        return " ".join(text.splitlines()[-3:]) or "(no output)"

    async def stop(self) -> None:
        """Ask QEMU to quit, kill it if it does not, and remove the temp dir."""
        try:
            if self.proc is not None and self.proc.returncode is None:
                await self._quit()
                try:
                    await asyncio.wait_for(self.proc.wait(), QUIT_TIMEOUT)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        self.proc.kill()
                    await self.proc.wait()
        finally:
            if self.connection is not None:
                await self.connection.close()
            shutil.rmtree(self.workdir, ignore_errors=True)

    async def _quit(self) -> None:
        conn = self.connection
        if conn is None or not conn.connected:
            return
        with contextlib.suppress(QmpShellError, TimeoutError):
            await asyncio.wait_for(conn.execute({"execute": "quit"}), QUIT_TIMEOUT)


def _die_with_parent() -> Callable[[], Any] | None:
    """A preexec_fn that makes the child get SIGKILL when the shell dies (Linux)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def set_pdeathsig() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)

    return set_pdeathsig
