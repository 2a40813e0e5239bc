"""A scripted run loads only what it uses: no event loop, no prompt, no
highlighter, no TLS without TLS (``-X importtime`` names every module)."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers.cli import ISOLATED
from helpers.qemu_process import QemuProcess

NOT_FOR_SCRIPTS = ("asyncio", "prompt_toolkit", "pygments", "ssl", "logging",
                   "concurrent")


def imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(ISOLATED / "config"),
           "XDG_CACHE_HOME": str(ISOLATED / "cache")}
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "qmpshell", *args],
                       capture_output=True, text=True, timeout=60, env=env,
                       stdin=subprocess.DEVNULL)
    names = {line.rsplit("|", 1)[1].strip() for line in r.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    return r, names


def test_one_command_imports_no_loop_prompt_or_highlighter(qemu: QemuProcess) -> None:
    for _ in range(2):  # the second run reads the schema cache the first one wrote
        r, names = imported(str(qemu.socket_path), "-c", "query-status")
        assert r.returncode == 0, r.stderr[-2000:]
        assert '"status": "running"' in r.stdout
        assert "qmpshell.wire.blocking" in names
        loaded = sorted(n for n in names if n.split(".")[0] in NOT_FOR_SCRIPTS)
        assert loaded == []


def test_a_session_from_stdin_imports_no_loop_either(qemu: QemuProcess) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(ISOLATED / "config"),
           "XDG_CACHE_HOME": str(ISOLATED / "cache")}
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "qmpshell",
                        str(qemu.socket_path)], input="query-status\n.sleep 0.1\nstop\n",
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count('"return"') == 2 and '"STOP"' in r.stdout
    names = {line.rsplit("|", 1)[1].strip() for line in r.stderr.splitlines()
             if line.startswith("import time:")}
    assert not [n for n in names if n.split(".")[0] in ("asyncio", "prompt_toolkit", "pygments")]
