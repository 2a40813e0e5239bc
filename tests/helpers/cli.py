"""Running the installed shell as a script would: a subprocess with its own
config and cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from helpers.qemu_process import QemuProcess

ISOLATED = Path(tempfile.mkdtemp(prefix="qmpshell-test-home-"))
"""Config and schema cache of the runs under test: never the user's own."""


def qmpshell(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "XDG_CONFIG_HOME": str(ISOLATED / "config"),
                "XDG_CACHE_HOME": str(ISOLATED / "cache"), **(env or {})}
    full_env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "qmpshell", *args], input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, env=full_env)


def empty_cache(tmp: Path) -> dict[str, str]:
    """The environment of a run that finds no cached schema (a dry run then
    checks against the bundled table, not the last QEMU another test used)."""
    return {"XDG_CACHE_HOME": str(tmp / "empty-cache")}


def messages(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def sock(q: QemuProcess) -> str:
    return str(q.socket_path)
