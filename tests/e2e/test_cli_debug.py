"""--debug against a real QEMU: the schema decision and the cache on stderr,
stdout untouched."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import messages, qmpshell, sock
from helpers.qemu_process import QemuProcess


def test_debug_tells_which_schema_and_whether_the_cache_knew_it(qemu: QemuProcess,
                                                                 tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    cold = qmpshell("--debug", sock(qemu), "-c", "query-status", env=env)
    assert cold.returncode == 0, cold.stderr
    assert messages(cold.stdout)[0]["return"]["status"] == "running"
    assert "qmpshell.schema.cache: miss: no " in cold.stderr
    assert "qmpshell.schema.cache: stored " in cold.stderr
    assert "qmpshell.schema: using the server's schema: live QEMU" in cold.stderr
    warm = qmpshell(sock(qemu), "-c", "query-status", env={**env, "QMPSHELL_DEBUG": "1"})
    assert "qmpshell.schema.cache: hit: " in warm.stderr
    assert "the cache knows this QEMU build" in warm.stderr
    assert all(line.startswith("qmpshell debug ") for line in warm.stderr.splitlines())
    quiet = qmpshell(sock(qemu), "-c", "query-status", env=env)
    assert quiet.stderr == "" and quiet.stdout == cold.stdout


def test_debug_says_why_the_server_schema_is_not_read(qemu: QemuProcess) -> None:
    run = qmpshell("--debug", "-H", sock(qemu), "-c", "info status")
    assert run.returncode == 0, run.stderr
    assert "not reading the server's schema: HMP mode" in run.stderr


def test_debug_says_why_nothing_was_asked(qemu: QemuProcess) -> None:
    run = qmpshell("--debug", sock(qemu), "-c", "device_del id=nothing-here")
    assert run.returncode == 1  # QEMU: no such device
    assert ("qmpshell.confirm: not asked (nobody to ask: a script): device_del: "
            "this unplugs the device") in run.stderr
    run = qmpshell("--debug", "--yes", sock(qemu), "-c", "device_del id=nothing-here")
    assert "qmpshell.confirm: not asked (--yes or confirm = false)" in run.stderr
