"""Confirmation at the prompt happens after the line is parsed, on what
would be sent: a transaction( typed over three lines asks when ')' closes it,
and 'n' sends nothing.  A real QEMU, a real pty."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import isolated_env  # noqa: E402
from helpers.qemu_process import QemuProcess  # noqa: E402

QMPSHELL = Path(sys.executable).parent / "qmpshell"
PROMPT = r"\(QEMU\)"
TRANS = r"TRANS>"
DEADLINE = 20

pytestmark = pytest.mark.qemu


def shell(qemu: QemuProcess, home: Path, *extra: str) -> Any:
    child = pexpect.spawn(str(QMPSHELL), [*extra, str(qemu.socket_path)], env=isolated_env(home),
                          dimensions=(30, 160), encoding="utf-8", timeout=DEADLINE)
    child.expect(PROMPT)
    return child


def block_jobs(child: Any) -> list[Any]:
    """What query-block-jobs answers, as the shell prints it (compact)."""
    child.send(".echo begin\r")
    child.expect("begin")
    child.send("query-block-jobs\r")
    child.expect(r'"return": (\[[^\]]*\])')
    value = json.loads(child.match.group(1))
    child.expect(PROMPT)
    return list(value)


def three_lines(child: Any, target: Path, job: str = "b0") -> None:
    child.send("transaction(\r")
    child.expect(TRANS)
    child.send(f"drive-backup device=scratch target={target} sync=full job-id={job}\r")
    child.expect(TRANS)
    child.send(")\r")


def test_a_three_line_transaction_asks_and_no_sends_nothing(qemu_scratch: QemuProcess,
                                                             home: Path, tmp_path: Path) -> None:
    target = tmp_path / "backup.qcow2"
    logfile = tmp_path / "qmp.log"
    child = shell(qemu_scratch, home, "--compact", "-l", str(logfile))
    three_lines(child, target)
    child.expect(r"transaction: drive-backup: this overwrites the target image\. "
                 r"Run it\? \[y/N\]")
    child.send("n\r")
    child.expect("not run")
    child.expect(PROMPT)
    assert block_jobs(child) == []
    assert not target.exists()
    sent = [json.loads(line)["message"] for line in logfile.read_text().splitlines()]
    assert not any(m.get("execute") == "transaction" for m in sent if isinstance(m, dict))
    # the shell is out of the transaction: an ordinary line runs
    child.send("query-status\r")
    child.expect('"status"')
    child.expect(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)


def test_yes_sends_it_once_and_yes_option_does_not_ask(qemu_scratch: QemuProcess, home: Path,
                                                        tmp_path: Path) -> None:
    child = shell(qemu_scratch, home, "--compact")
    three_lines(child, tmp_path / "one.qcow2")
    child.expect(r"Run it\? \[y/N\]")
    child.send("y\r")
    child.expect(r'\{"return": \{\}\}')
    child.expect(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)

    child = shell(qemu_scratch, home, "--compact", "--yes")
    three_lines(child, tmp_path / "two.qcow2", job="b1")
    # sent at once: QEMU's answer (an error while the first backup still
    # holds the drive is an answer too), no question
    assert child.expect([r'\{"return": \{\}\}', r'\{"error"', r"Run it\?"]) != 2, "--yes asked"
    child.expect(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
