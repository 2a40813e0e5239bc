"""Ending a helper process (QEMU, qemu-ga, libvirtd) the same way everywhere:
its whole process group, politely first."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any


def stop_group(proc: subprocess.Popen[Any], grace: float = 10) -> None:
    """SIGTERM to ``proc``'s process group, SIGKILL if it is still there
    after ``grace`` seconds; returns once it has exited."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
