"""A history file that cannot be used (here: a directory) is said once; the
prompt goes on, one Enter per line (a real QEMU, a real pty)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.qemu_process import QemuProcess  # noqa: E402

QMPSHELL = Path(sys.executable).parent / "qmpshell"
DEADLINE = 20

pytestmark = pytest.mark.qemu


def test_a_history_file_that_is_a_directory(start_qemu: Callable[..., QemuProcess],
                                            home: Path) -> None:
    machine = start_qemu()
    (home / "state" / "qmpshell" / "history").mkdir(parents=True)
    child = pexpect.spawn(str(QMPSHELL), [str(machine.socket_path)], env=isolated_env(home),
                          dimensions=(30, 160), encoding="utf-8", timeout=DEADLINE)
    seen = []
    try:
        child.expect(r"\(QEMU\)")
        seen.append(child.before)
        for command, answer in (("query-status", '"status"'), ("query-name", r"\{\}"),
                                ("query-kvm", '"enabled"')):
            child.sendline(command)  # one Enter each
            child.expect(answer)
            seen.append(child.before + child.after)
        child.sendline(".quit")
        child.expect(pexpect.EOF)
        seen.append(child.before)
    finally:
        child.close(force=True)
    text = "".join(seen)
    assert child.exitstatus == 0
    assert text.count("history is kept for this session only") == 1
    assert "Is a directory" in text and "Traceback" not in text
