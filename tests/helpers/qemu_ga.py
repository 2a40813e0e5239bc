"""Start and stop a real qemu-ga (Debian's qemu-guest-agent) standalone, on a
private UNIX socket, with every command that could touch the host blocked.

The agent runs on the test machine itself, not in a guest: only the commands
of :data:`ALLOWED` (which read nothing but the agent's own state, the clock,
the host name and the OS name) stay enabled; every other command of QEMU
7.2's agent table, and any the installed agent adds, is given to ``-b``."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers.processes import stop_group

QEMU_GA = os.environ.get("QEMU_GA", "qemu-ga")

ALLOWED = frozenset({
    "guest-sync", "guest-sync-delimited", "guest-ping", "guest-info", "guest-get-time",
    "guest-get-timezone", "guest-get-host-name", "guest-get-osinfo", "guest-exec-status",
})
"""The only commands left enabled: none of them changes anything."""


def qemu_ga_missing_message() -> str:
    return (f"{QEMU_GA} not found: install it with 'apt-get install qemu-guest-agent' "
            "(make test does this)")


def have_qemu_ga() -> bool:
    return shutil.which(QEMU_GA) is not None


def agent_commands() -> set[str]:
    """Every command of QEMU 7.2's agent (the bundled table); a newer agent's
    extra commands are caught by :meth:`QemuGA.start`, which then refuses."""
    from qmpshell.schema.agent import load_agent_table

    return set(load_agent_table().schema.commands)


@dataclass
class QemuGA:
    """A running qemu-ga whose socket is ``socket_path``; ``blocked`` are the
    commands it refuses."""

    workdir: Path
    socket_path: Path = field(init=False)
    blocked: tuple[str, ...] = ()
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.socket_path = self.workdir / "qga.sock"

    def start(self, timeout: float = 20.0) -> QemuGA:
        state = self.workdir / "qga-state"
        state.mkdir(exist_ok=True)
        self.blocked = tuple(sorted(agent_commands() - ALLOWED))
        cmd = [QEMU_GA, "-m", "unix-listen", "-p", str(self.socket_path), "-t", str(state),
               "-f", str(self.workdir / "qga.pid"), "-b", ",".join(self.blocked)]
        self.log_path = self.workdir / "qga.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.proc.poll() is not None:
                raise RuntimeError(f"qemu-ga exited with {self.proc.returncode}: "
                                   + self.log_path.read_text(errors="replace"))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("qemu-ga did not listen on its socket in time")
            time.sleep(0.02)
        self._check_blocked()
        return self

    def _answers(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            self.ask({"execute": "guest-ping"})
        except OSError:
            return False
        return True

    def ask(self, request: dict[str, object]) -> dict[str, object]:
        """One request on a connection of its own (the agent serves one client
        at a time: never while a shell under test is connected)."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket_path))
            sock.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    raise OSError("qemu-ga closed the connection")
                data += chunk
        reply: dict[str, object] = json.loads(data)
        return reply

    def _check_blocked(self) -> None:
        """Refuse to go on if the agent has a command enabled that is not in
        :data:`ALLOWED` (a newer agent with commands the table lacks)."""
        info = self.ask({"execute": "guest-info"})["return"]
        assert isinstance(info, dict)
        enabled = {c["name"] for c in info["supported_commands"] if c["enabled"]}
        extra = enabled - ALLOWED
        if extra:
            self.stop()
            raise RuntimeError(f"qemu-ga enables commands this test does not block: {extra}")

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_group(self.proc)
        self.proc = None
