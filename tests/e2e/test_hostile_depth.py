"""A deeply nested raw JSON request is one error line, at the prompt (which
goes on) and in scripts, with --record and --logfile on; a real QEMU."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.cli import qmpshell, sock  # noqa: E402
from helpers.qemu_process import QemuProcess  # noqa: E402

QMPSHELL = Path(sys.executable).parent / "qmpshell"
DEADLINE = 20
DEEP = '{"execute": "query-status", "arguments": {"x": ' + "[" * 600 + "]" * 600 + "}}"

pytestmark = pytest.mark.qemu


def test_a_600_deep_request_at_the_prompt_does_not_end_the_session(
        start_qemu: Callable[..., QemuProcess], home: Path, tmp_path: Path) -> None:
    machine = start_qemu()
    log, record = tmp_path / "log.jsonl", tmp_path / "rec.qmp"
    child = pexpect.spawn(str(QMPSHELL), ["-l", str(log), "--record", str(record),
                                          str(machine.socket_path)],
                          env=isolated_env(home), dimensions=(30, 200), encoding="utf-8",
                          timeout=DEADLINE)
    try:
        child.expect(r"\(QEMU\)")
        child.send("\x1b[200~" + DEEP + "\x1b[201~\r")  # pasted
        child.expect("nested deeper than 256 levels")
        child.sendline("query-status")
        child.expect('"status"')
        child.sendline(".quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert "query-status" in record.read_text()
    assert '"query-status"' in log.read_text()


def test_a_600_deep_request_in_a_script_is_one_line(
        start_qemu: Callable[..., QemuProcess], tmp_path: Path) -> None:
    machine = start_qemu()
    run = qmpshell(sock(machine), "-l", str(tmp_path / "log"), "--record",
                   str(tmp_path / "rec"), "-c", DEEP, "-c", "query-status")
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert "<command>:1: error:" in run.stderr and "nested deeper than 256" in run.stderr
    assert '"running"' in run.stdout
