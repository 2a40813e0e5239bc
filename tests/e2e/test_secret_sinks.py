"""-v and -n show requests with their secrets masked, as history, --logfile
and --record write them (--show-secrets for someone debugging their own
machine); against a real QEMU, every entry of the secrets table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.cli import qmpshell, sock
from helpers.qemu_process import QemuProcess
from helpers.secret_examples import QMP_EXAMPLES, SECRET, hmp_lines

pytestmark = pytest.mark.qemu

LINES = [line for line, _ in QMP_EXAMPLES.values()]
HMP_LINES = list(hmp_lines())



def masks(text: str) -> int:
    """Masked values in a recording's lines (its header explains the mask)."""
    return sum(line.count("********") for line in text.splitlines()
               if not line.startswith("#"))

def commands(lines: list[str]) -> list[str]:
    return [arg for line in lines for arg in ("-c", line)]


def test_dry_run_masks_unless_asked(tmp_path: Path) -> None:
    lines = LINES + [f".hmp {line}" for line in HMP_LINES]
    masked = qmpshell("-n", "--compact", *commands(lines))
    assert SECRET not in masked.stdout + masked.stderr
    assert masked.stdout.count("********") >= len(HMP_LINES) + 5
    shown = qmpshell("-n", "--compact", "--show-secrets", *commands(lines))
    assert shown.stdout.count(SECRET) == masked.stdout.count("********")


def test_verbose_logfile_and_recording_mask_what_qemu_was_sent(
        start_qemu: Callable[..., QemuProcess], tmp_path: Path) -> None:
    machine = start_qemu()
    log, record = tmp_path / "log.jsonl", tmp_path / "rec.qmp"
    lines = LINES + [f".hmp {line}" for line in HMP_LINES]
    run = qmpshell(sock(machine), "-v", "--compact", "-l", str(log), "--record", str(record),
                   *commands(lines))
    for text in (run.stdout, run.stderr, log.read_text(), record.read_text()):
        assert SECRET not in text
    assert run.stdout.count("********") >= len(HMP_LINES) + 5
    assert log.read_text().count("********") >= len(HMP_LINES) + 5
    assert masks(record.read_text()) >= len(HMP_LINES) + 5
    assert (log.stat().st_mode & 0o777, record.stat().st_mode & 0o777) == (0o600, 0o600)
    shown = qmpshell(sock(machine), "-v", "--compact", "--show-secrets", "-l", str(log),
                     *commands(lines))
    assert SECRET in shown.stdout
    assert SECRET not in log.read_text()  # files stay masked


def test_hmp_mode_masks_verbose_logfile_and_recording(
        start_qemu: Callable[..., QemuProcess], tmp_path: Path) -> None:
    machine = start_qemu()
    log, record = tmp_path / "log.jsonl", tmp_path / "rec.qmp"
    run = qmpshell(sock(machine), "-H", "-v", "--compact", "-l", str(log),
                   "--record", str(record), *commands(HMP_LINES))
    for text in (run.stdout, run.stderr, log.read_text(), record.read_text()):
        assert SECRET not in text
    assert run.stdout.count("********") == len(HMP_LINES)
    assert masks(record.read_text()) == len(HMP_LINES)
