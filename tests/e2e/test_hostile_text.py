"""A VM's name and a device id are chosen by whoever made the VM: text the
shell prints from them must not retitle the terminal, fill its clipboard or
clear the screen (a real QEMU, a real pty, as a person types)."""

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
HOSTILE_NAME = "vm\x1b]0;PWNED\x07\x1b]52;c;ZWNobyBQV05FRA==\x07\x1b[2Jtail"

pytestmark = pytest.mark.qemu


def test_hmp_info_name_at_the_prompt_leaves_no_escape_from_the_server(
        start_qemu: Callable[..., QemuProcess], home: Path) -> None:
    machine = start_qemu(args=["-name", f"guest={HOSTILE_NAME}"])
    child = pexpect.spawn(str(QMPSHELL), [str(machine.socket_path)], env=isolated_env(home),
                          dimensions=(30, 120), encoding="utf-8", timeout=DEADLINE)
    captured: list[str] = []
    try:
        child.expect(r"\(QEMU\)")
        child.sendline(".hmp info name")
        child.expect("tail")  # the whole name was printed
        captured.append(child.before + child.after)
        child.sendline(".quit")
        child.expect(pexpect.EOF)
        captured.append(child.before)
    finally:
        child.close(force=True)
    output = "".join(captured)
    assert "vm^[]0;PWNED^G^[]52;c;ZWNobyBQV05FRA==^G^[[2Jtail" in output
    for sequence in ("\x1b]0;", "\x1b]52;", "\x1b[2J", "\x07"):
        assert sequence not in output


def test_an_error_echoing_an_escape_laden_device_id_is_shown_not_obeyed(
        start_qemu: Callable[..., QemuProcess]) -> None:
    machine = start_qemu()
    device = "d\x1b]0;PWNED\x07\x1b[2J"
    for mode in ("--compact", "--pretty"):
        run = qmpshell(sock(machine), mode, "-c", f'device_del id="{device}"',
                       "-c", f".hmp device_del {device}")
        assert run.returncode == 1
        for stream in (run.stdout, run.stderr):
            assert "\x1b" not in stream and "\x07" not in stream
        assert "d^[]0;PWNED^G^[[2J" in run.stderr


def test_a_backing_file_name_with_escapes_is_shown_not_obeyed(
        start_qemu: Callable[..., QemuProcess], tmp_path: Path) -> None:
    """An untrusted qcow2 names its backing file: info block -v shows it."""
    import subprocess

    from helpers.qemu_process import scratch_machine_args

    base = tmp_path / "base\x1b]0;PWNED\x07\x1b[2J.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "16M"], check=True)
    overlay = tmp_path / "overlay.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2",
                    str(overlay)], check=True)
    machine = start_qemu("vm", args=scratch_machine_args(overlay))
    for mode in ("--compact", "--pretty"):
        run = qmpshell(sock(machine), mode, "-c", ".hmp info block -v", "-c", "query-block")
        assert run.returncode == 0, run.stderr
        assert "\x1b" not in run.stdout + run.stderr and "\x07" not in run.stdout
        assert "base^[]0;PWNED^G^[[2J.qcow2" in run.stdout
