"""A QEMU rebuilt with the same version string: the cached schema is checked
against the server's on every connection (scripts before their first line,
the prompt in the background), and a changed schema replaces the entry."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.qemu_process import QemuProcess  # noqa: E402

from qmpshell.schema.cache import pack, unpack  # noqa: E402

QMPSHELL = Path(sys.executable).parent / "qmpshell"
DEADLINE = 20

pytestmark = pytest.mark.qemu


def run(machine: QemuProcess, home: Path, *args: str) -> tuple[int, str, str]:
    import subprocess

    done = subprocess.run([str(QMPSHELL), str(machine.socket_path), *args],
                          env=isolated_env(home), capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout, done.stderr


def make_stale(home: Path) -> Path:
    """The cached entry, as if an older build without query-status wrote it."""
    [entry] = (home / "cache" / "qmpshell").rglob("schema-*.json")
    data = unpack(entry.read_bytes())
    data["digest"] = "0" * 64
    del data["schema"]["commands"]["query-status"]
    entry.write_bytes(pack(data))
    return entry


def test_a_script_checks_the_cache_before_its_first_line(
        start_qemu: Callable[..., QemuProcess], home: Path) -> None:
    machine = start_qemu()
    assert run(machine, home, "-c", "query-name")[0] == 0  # fills the cache
    entry = make_stale(home)
    status, out, err = run(machine, home, "-c", "query-status")
    assert (status, err) == (0, "")
    assert '"running"' in out or '"status"' in out
    assert unpack(entry.read_bytes())["digest"] != "0" * 64


def test_the_prompt_checks_the_cache_in_the_background(
        start_qemu: Callable[..., QemuProcess], home: Path) -> None:
    machine = start_qemu()
    assert run(machine, home, "-c", "query-name")[0] == 0
    entry = make_stale(home)
    child = pexpect.spawn(str(QMPSHELL), [str(machine.socket_path)], env=isolated_env(home),
                          dimensions=(30, 120), encoding="utf-8", timeout=DEADLINE)
    try:
        child.expect(r"\(QEMU\)")
        deadline = time.monotonic() + DEADLINE
        while unpack(entry.read_bytes())["digest"] == "0" * 64:
            assert time.monotonic() < deadline, "the stale entry was not replaced"
            time.sleep(0.05)
        child.sendline("query-status")
        child.expect('"status"')
        child.sendline(".quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
