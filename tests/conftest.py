"""Shared fixtures: real QEMU processes with private sockets, always torn down."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from qemu_process import (  # noqa: E402
    QemuProcess,
    have_qemu,
    make_scratch_image,
    qemu_missing_message,
    scratch_machine_args,
)

SPEC_PATH = Path(__file__).resolve().parents[1] / "qmpshell" / "data" / "qmp-commands.hx.blame.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def require_qemu() -> None:
    """Fail under CI, skip elsewhere, when QEMU is not installed."""
    if have_qemu():
        return
    if os.environ.get("CI"):
        pytest.fail(qemu_missing_message())
    pytest.skip(qemu_missing_message())


@pytest.fixture
def qemu(tmp_path: Path) -> Iterator[QemuProcess]:
    """A bare QEMU (-machine none) with a UNIX and a TCP QMP socket."""
    require_qemu()
    proc = QemuProcess(tmp_path, tcp=True)
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def qemu_scratch(tmp_path: Path) -> Iterator[QemuProcess]:
    """A q35/TCG QEMU with a 64 MiB qcow2 drive named 'scratch'."""
    require_qemu()
    image = make_scratch_image(tmp_path / "scratch.qcow2")
    proc = QemuProcess(tmp_path, args=scratch_machine_args(image))
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()
