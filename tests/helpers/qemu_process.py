"""Start and stop a real qemu-system-x86_64 with a private QMP socket.

Used by the pytest fixtures in conftest.py and by the benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from helpers.processes import stop_group

QEMU_BINARY = os.environ.get("QEMU", "qemu-system-x86_64")


def qemu_missing_message() -> str:
    return (f"{QEMU_BINARY} not found: install it with "
            "'apt-get install qemu-system-x86 qemu-utils' (make test does this)")


def have_qemu() -> bool:
    return shutil.which(QEMU_BINARY) is not None


@dataclass
class QemuProcess:
    """A running QEMU whose QMP socket is ``socket_path`` (and ``tcp_port``
    when started with a TCP monitor too)."""

    workdir: Path
    args: Sequence[str] = ()
    tcp: bool = False
    socket_path: Path = field(init=False)
    tcp_port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.socket_path = self.workdir / "qmp.sock"

    def start(self, timeout: float = 30.0) -> QemuProcess:
        for _ in range(PORT_TRIES - 1):
            try:
                return self._start(timeout)
            except PortTaken:  # free_port()'s port went to another process meanwhile
                continue
        return self._start(timeout)

    def _start(self, timeout: float) -> QemuProcess:
        cmd = [QEMU_BINARY, "-nodefaults", "-display", "none",
               "-qmp", f"unix:{self.socket_path},server=on,wait=off"]
        if self.tcp:
            self.tcp_port = free_port()
            cmd += ["-qmp", f"tcp:127.0.0.1:{self.tcp_port},server=on,wait=off"]
        if not any(a == "-machine" or a == "-M" for a in self.args):
            cmd += ["-machine", "none"]
        cmd += list(self.args)
        self.log_path = self.workdir / "qemu.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                if self.tcp and b"Address already in use" in self.log_path.read_bytes():
                    raise PortTaken(self.tcp_port)
                raise RuntimeError(f"QEMU exited with {self.proc.returncode}: "
                                   + self.log_path.read_text(errors="replace"))
            if unix_listening(self.socket_path) and (
                    not self.tcp or tcp_listening(self.tcp_port, self.proc.pid)):
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("QEMU did not create its QMP socket in time")
            time.sleep(0.02)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_group(self.proc)
        self.proc = None


PORT_TRIES = 5
"""Starts tried with a fresh port when the one picked was taken meanwhile."""


class PortTaken(RuntimeError):
    """QEMU could not bind the TCP port :func:`free_port` picked."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unix_listening(path: Path) -> bool:
    """Whether a UNIX socket at ``path`` is listening, without connecting to it
    (QEMU's monitor serves one client at a time).  The file appears at bind(),
    a moment before listen(): a client connecting in between is refused."""
    try:
        table = Path("/proc/net/unix").read_text()
    except OSError:
        return path.exists()
    wanted = str(path)
    for row in table.splitlines()[1:]:
        fields = row.split()
        # Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 = listening
        if len(fields) >= 8 and fields[7] == wanted and int(fields[3], 16) & 0x10000:
            return True
    return False


def tcp_listening(port: int, pid: int | None = None) -> bool:
    """Whether something listens on 127.0.0.1:``port`` (process ``pid``,
    when given), without connecting: a connection would take the monitor's
    one client, and a connect to a port nobody listens on yet can, rarely,
    connect the socket to itself."""
    try:
        table = Path("/proc/net/tcp").read_text()
    except OSError:
        return port_open(port)
    local = f"0100007F:{port:04X}"
    inodes = set()
    for row in table.splitlines()[1:]:
        fields = row.split()
        # sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        if len(fields) >= 10 and fields[1] == local and fields[3] == "0A":
            inodes.add(f"socket:[{fields[9]}]")
    if pid is None or not inodes:
        return bool(inodes)
    return not inodes.isdisjoint(open_files(pid))


def open_files(pid: int) -> set[str]:
    """What the process's file descriptors point to (``socket:[INODE]`` for a socket)."""
    found = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        entries = list(fd_dir.iterdir())
    except OSError:
        return found
    for entry in entries:
        try:
            found.add(os.readlink(entry))
        except OSError:
            continue
    return found


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            return False
    return True


def make_scratch_image(path: Path, size: str = "64M") -> Path:
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), size], check=True)
    return path


def scratch_machine_args(image: Path) -> list[str]:
    """A q35/TCG machine with ``image`` as a block device named 'scratch'."""
    return ["-machine", "q35,accel=tcg", "-m", "64",
            "-drive", f"if=none,id=scratch,file={image},format=qcow2",
            "-device", "virtio-blk-pci,drive=scratch,id=scratch-dev"]
