"""--spawn starts a private QEMU and never leaves it behind: not after a normal
exit, not after SIGTERM or SIGINT, not even after SIGKILL of the shell."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from helpers.cli import messages, qmpshell
from helpers.qemu_process import have_qemu

pytestmark = pytest.mark.skipif(not have_qemu() and not os.environ.get("CI"),
                                reason="needs qemu-system-x86_64")


def qemu_pids(marker: str) -> list[int]:
    """QEMU processes whose command line carries ``marker`` (zombies excluded)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and b"qemu-system" in cmdline and state != "Z":
            found.append(int(entry))
    return found


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def marker() -> Iterator[str]:
    name = f"qmpshell-test-{uuid.uuid4().hex[:12]}"
    yield name
    for pid in qemu_pids(name):  # never leak one, even when a test fails
        os.kill(pid, signal.SIGKILL)


def spawn_args(marker: str) -> list[str]:
    return ["--", "-machine", "none", "-nodefaults", "-display", "none", "-name", marker]


def test_spawn_runs_a_command_and_cleans_up(marker: str) -> None:
    r = qmpshell("--spawn", "-c", "query-status", "-c", "query-name", *spawn_args(marker))
    assert r.returncode == 0, r.stderr
    status, name = messages(r.stdout)
    assert status["return"]["status"] == "running"
    assert name == {"return": {"name": marker}}
    assert wait_until(lambda: not qemu_pids(marker))


def test_spawn_default_machine() -> None:
    r = qmpshell("--spawn", "-c", "query-machines")
    assert r.returncode == 0, r.stderr


def test_spawn_with_qemu_missing() -> None:
    r = qmpshell("--spawn", "-c", "query-status", env={"QEMU": "/nonexistent/qemu-system-x"})
    assert r.returncode == 3
    assert "not found" in r.stderr and "apt-get install qemu-system-x86" in r.stderr


def test_spawn_with_bad_qemu_arguments() -> None:
    r = qmpshell("--spawn", "-c", "query-status", "--", "-no-such-option")
    assert r.returncode == 3
    assert "exited with status" in r.stderr and "Traceback" not in r.stderr


def test_spawned_qemu_that_dies_after_connecting_says_why() -> None:
    """QEMU connects to the shell's socket first and opens its display after:
    without a display (no -display none) it exits then, and what it said is
    the message, not the reset of the connection it left."""
    r = qmpshell("--spawn", "-c", "query-status", "--", "-machine", "none", "-display", "gtk",
                 env={"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert r.returncode == 3
    assert r.stderr.startswith("qmpshell: error: qemu-system-x86_64 exited with status "), \
        r.stderr
    assert "reset by peer" not in r.stderr and len(r.stderr.splitlines()) == 1


def test_own_arguments_without_a_display_choice_run_headless(marker: str) -> None:
    """Arguments that choose no display, on a machine with none to open:
    the VM runs without one rather than failing to open a window."""
    r = qmpshell("--spawn", "-c", "query-name", "--", "-machine", "none", "-name", marker,
                 env={"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert r.returncode == 0, r.stderr
    assert messages(r.stdout) == [{"return": {"name": marker}}]
    assert wait_until(lambda: not qemu_pids(marker))


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 128 + signal.SIGTERM),
                                            (signal.SIGINT, 128 + signal.SIGINT),
                                            (signal.SIGKILL, -signal.SIGKILL)])
def test_spawned_qemu_goes_with_the_shell(marker: str, signum: int, status: int) -> None:
    shell = subprocess.Popen(
        [sys.executable, "-m", "qmpshell", "--spawn", "-c", ".echo ready", "-c", ".sleep 120",
         *spawn_args(marker)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert shell.stdout is not None
        assert shell.stdout.readline() == "ready\n"
        assert qemu_pids(marker), "QEMU should be running while the shell is"
        shell.send_signal(signum)
        assert shell.wait(timeout=20) == status
        assert wait_until(lambda: not qemu_pids(marker)), "QEMU was left behind"
        assert shell.stderr is not None
        assert "Traceback" not in shell.stderr.read()
    finally:
        if shell.poll() is None:
            shell.kill()
        shell.wait()
