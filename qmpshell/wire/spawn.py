"""``--spawn``: a throwaway QEMU with a private QMP socket, gone with the shell.

The shell listens on a socket in a fresh temp dir and QEMU connects to it
(``-qmp unix:PATH``), so there is no polling for a socket to appear and no
other process can grab it.  QEMU lives in its own session (a Ctrl-C at the
terminal reaches the shell, which shuts QEMU down in order) and dies with
the shell even if the shell is killed outright (PR_SET_PDEATHSIG on Linux).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from qmpshell.errors import ConnectError, QmpShellError
from qmpshell.wire.connection import QmpConnection

DEFAULT_ARGS = ("-machine", "none", "-nodefaults", "-display", "none")
START_TIMEOUT = 30.0
QUIT_TIMEOUT = 5.0


class SpawnError(ConnectError):
    """QEMU could not be started (exit status 3, like any failed connection)."""


DISPLAY_OPTIONS = ("-display", "-nographic", "-vnc", "-spice", "-sdl", "-curses")
"""QEMU options that choose what it shows: one given, the choice is the user's."""


def headless_default(args: Sequence[str], env: Mapping[str, str]) -> tuple[str, ...]:
    """``args`` with ``-display none`` added when they choose no display and
    there is none to open (no $DISPLAY, no $WAYLAND_DISPLAY): QEMU would
    otherwise try a window and exit with 'gtk initialization failed'."""
    if not args or env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return tuple(args)
    if any(arg.split("=", 1)[0].replace("--", "-", 1) in DISPLAY_OPTIONS for arg in args):
        return tuple(args)
    return (*args, "-display", "none")


def missing_qemu_message(binary: str) -> str:
    return (f"{binary} not found. Install QEMU (Debian/Ubuntu: apt-get install "
            "qemu-system-x86 qemu-utils; Fedora: dnf install qemu-system-x86 qemu-img; "
            "Arch: pacman -S qemu-full) or set $QEMU to a QEMU binary.")


class SpawnedQemu:
    """A QEMU started for this shell: :meth:`start` returns the socket QEMU
    connected to (for either driver to speak QMP over); :meth:`stop` ends it
    (quit, then kill)."""

    def __init__(self, binary: str, args: Sequence[str] = ()) -> None:
        self.binary = binary
        self.args = tuple(args) or DEFAULT_ARGS
        self.workdir = Path(tempfile.mkdtemp(prefix="qmpshell-"))
        self.socket_path = self.workdir / "qmp.sock"
        self.log_path = self.workdir / "qemu.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def start(self) -> socket.socket:
        """Start QEMU and return the connection it made to us."""
        path = shutil.which(self.binary)
        if path is None:
            raise SpawnError(missing_qemu_message(self.binary))
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
            try:
                server.bind(str(self.socket_path))
                server.listen(1)
            except OSError as exc:
                raise ConnectError(f"{self.socket_path}: {exc.strerror}") from None
            command = [path, *self.args, "-qmp", f"unix:{self.socket_path}"]
            with open(self.log_path, "wb") as log:
                try:
                    self.proc = subprocess.Popen(
                        command, stdin=subprocess.DEVNULL, stdout=log,
                        stderr=subprocess.STDOUT, start_new_session=True,
                        preexec_fn=_die_with_parent())
                except OSError as exc:
                    raise SpawnError(f"cannot start {self.binary}: {exc.strerror}") from None
            return self._accept(server)

    def _accept(self, server: socket.socket) -> socket.socket:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        server.settimeout(0.05)
        while time.monotonic() < deadline:
            try:
                sock, _ = server.accept()
            except TimeoutError:
                if self.proc.poll() is not None:
                    raise self._exited() from None
                continue
            sock.settimeout(None)
            return sock
        raise SpawnError(f"{self.binary} did not connect within {START_TIMEOUT:g} s")

    def explain(self, error: ConnectError, wait: float = 2.0) -> ConnectError:
        """``error`` from the first exchange with QEMU, or what QEMU itself
        said when it exited right after connecting (a QEMU argument it
        refused, no display to open): its status and its last words."""
        assert self.proc is not None
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return error
        return self._exited()

    def _exited(self) -> SpawnError:
        assert self.proc is not None
        return SpawnError(f"{self.binary} exited with status {self.proc.returncode}: "
                          f"{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip()
        except OSError:
            return "(no output)"
        return " ".join(text.splitlines()[-3:]) or "(no output)"

    def stop(self, connection: QmpConnection | None) -> None:
        """Ask QEMU to quit (over ``connection``, from a thread that may block
        on it), kill it if it does not, and remove the temp dir."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                if connection is not None and connection.connected:
                    with contextlib.suppress(QmpShellError):
                        connection.execute({"execute": "quit"}, timeout=QUIT_TIMEOUT)
                try:
                    self.proc.wait(QUIT_TIMEOUT)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        self.proc.kill()
                    self.proc.wait()
        finally:
            if connection is not None:
                connection.close()
            shutil.rmtree(self.workdir, ignore_errors=True)


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
